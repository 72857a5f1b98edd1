-- One row per current client record with the contact it belongs to. Acuity clients have no id, and the same person
-- can be listed twice: records sharing a normalised email are one contact; a record without email joins the contact
-- holding its normalised phone when exactly one emailed contact holds it; otherwise it is a contact of its own.
-- Operators correct this with seeds: an ignored identifier (seeds/ignored_identifiers.csv) is treated as absent, and
-- a record kept apart (seeds/contacts_kept_apart.csv) is a contact of its own; both show merge_rule 'manual'.
with

clients as (

    select * from {{ ref('stg_acuity__clients') }}

),

ignored as (

    select * from {{ ref('int_acuity__ignored_identifiers') }}

),

settings as (

    {{ tenant_settings() }}

),

kept_apart as (

    select
        tenant_id,
        identifier_type,
        {{ normalise_identifier('identifier_type', 'identifier_value', 'settings.phone_country_code') }}
            as identifier_value,
        nullif(lower(trim(client_name)), '') as client_name_normalised
    from {{ ref('contacts_kept_apart') }}
    left join settings using (tenant_id)

),

-- placeholder identifiers removed before anything is merged
cleaned as (

    select
        clients.tenant_id,
        clients.client_record_id,
        clients.first_name,
        clients.last_name,
        clients.client_name_normalised,
        clients.email_raw,
        case when ignored_email.identifier_value is null then clients.email_normalised end as email_normalised,
        clients.phone_raw,
        case when ignored_phone.identifier_value is null then clients.phone_normalised end as phone_normalised,
        clients.notes,
        clients.version_valid_from,
        clients.load_id,
        ignored_email.identifier_value is not null or ignored_phone.identifier_value is not null as has_ignored,
        kept.identifier_value as kept_apart_on
    from clients
    left join ignored as ignored_email
        on ignored_email.tenant_id = clients.tenant_id
        and ignored_email.identifier_type = 'email'
        and ignored_email.identifier_value = clients.email_normalised
    left join ignored as ignored_phone
        on ignored_phone.tenant_id = clients.tenant_id
        and ignored_phone.identifier_type = 'phone'
        and ignored_phone.identifier_value = clients.phone_normalised
    left join kept_apart as kept
        on kept.tenant_id = clients.tenant_id
        and kept.client_name_normalised = clients.client_name_normalised
        -- a shared email keeps apart the records of that name; a shared phone, the records of that name that would
        -- merge through it (those without email)
        and (
            (kept.identifier_type = 'email' and kept.identifier_value = clients.email_normalised)
            or (kept.identifier_type = 'phone' and kept.identifier_value = clients.phone_normalised
                and clients.email_normalised is null)
        )

),

emailed_phones as (

    select
        tenant_id,
        phone_normalised,
        count(distinct email_normalised) as emailed_contacts,
        min(email_normalised) as email_normalised
    from cleaned
    where email_normalised is not null and phone_normalised is not null and kept_apart_on is null
    group by tenant_id, phone_normalised

),

resolved as (

    select
        cleaned.*,
        case
            when cleaned.kept_apart_on is not null then 'manual'
            when cleaned.email_normalised is not null then 'email'
            when emailed_phones.emailed_contacts = 1 then 'phone'
            when cleaned.phone_normalised is not null then 'phone'
            else 'record'
        end as merge_rule,
        case
            when cleaned.kept_apart_on is not null
                then 'manual:' || cleaned.kept_apart_on || '|' || coalesce(cleaned.client_name_normalised, '')
            when cleaned.email_normalised is not null then 'email:' || cleaned.email_normalised
            when emailed_phones.emailed_contacts = 1 then 'email:' || emailed_phones.email_normalised
            when cleaned.phone_normalised is not null then 'phone:' || cleaned.phone_normalised
            else 'record:' || cleaned.client_record_id
        end as contact_key
    from cleaned
    -- equality only: a condition on one side would make this a nested-loop join (quadratic in clients, 10 s at
    -- 100k); the cases above already skip records kept apart or with an email
    left join emailed_phones
        on emailed_phones.tenant_id = cleaned.tenant_id
        and emailed_phones.phone_normalised = cleaned.phone_normalised

),

final as (

    select
        {{ dbt.hash("tenant_id || '|' || contact_key") }} as contact_id,
        *
    from resolved

)

select * from final
