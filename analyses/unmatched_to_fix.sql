-- Which bookings and orders belong to nobody, and why? Every appointment (not canceled, not removed) and every order
-- (not removed) of each tenant that matched no contact, with the identifiers it carried and why each failed, so
-- someone can correct the client record in Acuity (or the booking) and the next sync matches it.
-- The *_problem columns read: 'missing' (the record has none), 'no contact has it' (no client record carries that
-- email / phone / first + last name: add it to the right client) or 'shared by N contacts' (it names several people,
-- so it is never used: give one of them their own). Matching tries email, then phone, then name (see README).
-- fix_row is the line that assigns the record to a contact for good: append it to fix_seed (seeds/
-- contact_assignments.csv), with the contact's merge_identifier (candidate_contact is a guess from a shared or
-- unused identifier: check it); the record then shows match_rule 'manual' after the next run.
-- detail is the calendar of an appointment, the status of an order; amount its price or order total. Upcoming
-- appointments come first (they are the ones someone will miss), then the rest by date, newest first.
{%- set checks = [('email', 'email_normalised'), ('phone', 'phone_normalised'), ('name', 'client_name_normalised')] %}
with

appointments as (

    select
        *,
        {{ normalise_name('first_name', 'last_name') }} as client_name_normalised
    from {{ ref('appointments') }}
    where match_rule = 'unmatched'
        and status in ('scheduled', 'no_show')

),

orders as (

    select
        *,
        {{ normalise_name('first_name', 'last_name') }} as client_name_normalised
    from {{ ref('orders') }}
    where match_rule = 'unmatched'
        and not is_removed

),

identifiers as (

    select
        tenant_id,
        identifier_type,
        identifier_value,
        count(*) as contacts,
        min(contact_id) as some_contact_id
    from {{ ref('contact_identifiers') }}
    group by tenant_id, identifier_type, identifier_value

),

contacts as (

    select * from {{ ref('contacts') }}

),

unmatched_records as (

    select
        appointments.tenant_id,
        'appointment' as record_type,
        appointments.appointment_id as record_id,
        appointments.starts_at_local as record_at,
        appointments.is_future as is_upcoming,
        appointments.calendar as detail,
        appointments.price as amount,
        appointments.first_name,
        appointments.last_name,
        appointments.email as email_normalised,
        appointments.phone as phone_normalised,
        appointments.client_name_normalised
    from appointments

    union all

    select
        tenant_id,
        'order' as record_type,
        order_id as record_id,
        ordered_at_local as record_at,
        false as is_upcoming,
        order_status as detail,
        order_total as amount,
        first_name,
        last_name,
        email as email_normalised,
        phone as phone_normalised,
        client_name_normalised
    from orders

),

final as (

    select
        unmatched_records.tenant_id,
        unmatched_records.record_type,
        unmatched_records.record_id,
        unmatched_records.record_at,
        unmatched_records.is_upcoming,
        unmatched_records.detail,
        unmatched_records.amount,
        unmatched_records.first_name,
        unmatched_records.last_name,
        unmatched_records.email_normalised as email,
        unmatched_records.phone_normalised as phone,
        {%- for identifier_type, column in checks %}
        case
            when unmatched_records.{{ column }} is null then 'missing'
            when {{ identifier_type }}_identifiers.contacts is null then 'no contact has it'
            else 'shared by ' || cast({{ identifier_type }}_identifiers.contacts as {{ dbt.type_string() }})
                || ' contacts'
        end as {{ identifier_type }}_problem,
        {%- endfor %}
        -- the contact one of its identifiers points at (a shared one names a candidate, to be checked by a person)
        candidates.merge_identifier as candidate_contact,
        -- the row that assigns it for good: append it to seeds/contact_assignments.csv (or fix the record in Acuity)
        'seeds/contact_assignments.csv' as fix_seed,
        unmatched_records.tenant_id || ',' || unmatched_records.record_type || ','
            || cast(unmatched_records.record_id as {{ dbt.type_string() }}) || ','
            || coalesce(candidates.merge_identifier, '<merge_identifier from marts.contacts>')
            || ',"unmatched: ' || replace(coalesce(unmatched_records.first_name, '') || ' '
            || coalesce(unmatched_records.last_name, ''), '"', '') || '"' as fix_row
    from unmatched_records
    {%- for identifier_type, column in checks %}
    left join identifiers as {{ identifier_type }}_identifiers
        on {{ identifier_type }}_identifiers.tenant_id = unmatched_records.tenant_id
        and {{ identifier_type }}_identifiers.identifier_type = '{{ identifier_type }}'
        and {{ identifier_type }}_identifiers.identifier_value = unmatched_records.{{ column }}
    {%- endfor %}
    left join contacts as candidates
        on candidates.tenant_id = unmatched_records.tenant_id
        and candidates.contact_id = coalesce(
            {%- for identifier_type, _ in checks %}
            {{ identifier_type }}_identifiers.some_contact_id{{ "," if not loop.last }}
            {%- endfor %}
        )

)

select * from final
order by tenant_id, is_upcoming desc, record_at desc, record_type, record_id
