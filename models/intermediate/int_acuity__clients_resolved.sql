-- One row per current client record with the contact it belongs to. Acuity clients have no id, and the same person
-- can be listed twice: records sharing a normalised email are one contact; a record without email joins the contact
-- holding its normalised phone when exactly one emailed contact holds it; otherwise it is a contact of its own.
with

clients as (

    select * from {{ ref('stg_acuity__clients') }}

),

emailed_phones as (

    select
        tenant_id,
        phone_normalised,
        count(distinct email_normalised) as emailed_contacts,
        min(email_normalised) as email_normalised
    from clients
    where email_normalised is not null and phone_normalised is not null
    group by tenant_id, phone_normalised

),

resolved as (

    select
        clients.*,
        case
            when clients.email_normalised is not null then 'email'
            when emailed_phones.emailed_contacts = 1 then 'phone'
            when clients.phone_normalised is not null then 'phone'
            else 'record'
        end as merge_rule,
        case
            when clients.email_normalised is not null then 'email:' || clients.email_normalised
            when emailed_phones.emailed_contacts = 1 then 'email:' || emailed_phones.email_normalised
            when clients.phone_normalised is not null then 'phone:' || clients.phone_normalised
            else 'record:' || clients.client_record_id
        end as contact_key
    from clients
    left join emailed_phones
        on clients.email_normalised is null
        and emailed_phones.tenant_id = clients.tenant_id
        and emailed_phones.phone_normalised = clients.phone_normalised

),

final as (

    select
        {{ dbt.hash("tenant_id || '|' || contact_key") }} as contact_id,
        *
    from resolved

)

select * from final
