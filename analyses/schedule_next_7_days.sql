-- What is booked for the coming week? Every appointment of each tenant that starts in the 7 days from the latest
-- run's as-of ([as_of, as_of + 7 days), in UTC), neither canceled nor removed, in start order.
-- Read it as a day sheet: starts_at_local is the wall clock of the calendar's time zone (timezone); contact_* come
-- from the merged contact, so an empty contact_email or contact_phone means the person can only be reached by the
-- details they booked with (first_name, last_name). match_rule 'unmatched' rows belong to no contact: see
-- unmatched_to_fix.
with

future_appointments as (

    select * from {{ ref('future_appointments') }}

),

contacts as (

    select * from {{ ref('contacts') }}

),

next_7_days as (

    select * from future_appointments
    where starts_at_utc < {{ dbt.dateadd('day', 7, 'as_of') }}

),

final as (

    select
        next_7_days.tenant_id,
        next_7_days.starts_at_local,
        next_7_days.timezone,
        next_7_days.duration_minutes,
        next_7_days.calendar,
        next_7_days.appointment_type,
        next_7_days.first_name,
        next_7_days.last_name,
        contacts.email as contact_email,
        contacts.phone as contact_phone,
        next_7_days.match_rule,
        next_7_days.is_paid,
        next_7_days.appointment_id,
        next_7_days.contact_id,
        next_7_days.starts_at_utc,
        next_7_days.as_of
    from next_7_days
    left join contacts
        on contacts.tenant_id = next_7_days.tenant_id
        and contacts.contact_id = next_7_days.contact_id

)

select * from final
order by tenant_id, starts_at_utc, calendar, appointment_id
