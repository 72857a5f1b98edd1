-- Who has never paid anything? Every contact of each tenant with nothing collected: no paid or delivered order and
-- no payment on any appointment (total_collected 0; a client who paid for appointments is not here, whatever their
-- orders), with how to reach them and how active they are: appointments held (past, not canceled), upcoming (from the
-- latest run's as-of, not canceled), and the last held and next upcoming start (calendar-local time). A contact with
-- upcoming appointments but nothing paid is a follow-up lead (their bookings may be free, or paid at the visit); one
-- with neither is dormant. Sorted by upcoming, then held appointments, most active first.
with

contacts as (

    select * from {{ ref('contacts') }}

),

appointments as (

    select * from {{ ref('appointments') }}
    where status in ('scheduled', 'no_show')
        and contact_id is not null

),

activity as (

    select
        tenant_id,
        contact_id,
        sum(case when not is_future then 1 else 0 end) as appointments_held,
        sum(case when is_future then 1 else 0 end) as appointments_upcoming,
        max(case when not is_future then starts_at_local end) as last_held_at,
        min(case when is_future then starts_at_local end) as next_upcoming_at
    from appointments
    group by tenant_id, contact_id

),

final as (

    select
        contacts.tenant_id,
        contacts.first_name,
        contacts.last_name,
        contacts.email,
        contacts.phone,
        coalesce(activity.appointments_held, 0) as appointments_held,
        coalesce(activity.appointments_upcoming, 0) as appointments_upcoming,
        activity.last_held_at,
        activity.next_upcoming_at,
        contacts.contact_id
    from contacts
    left join activity
        on activity.tenant_id = contacts.tenant_id
        and activity.contact_id = contacts.contact_id
    where contacts.total_collected = 0

)

select * from final
order by tenant_id, appointments_upcoming desc, appointments_held desc, last_name, first_name, contact_id
