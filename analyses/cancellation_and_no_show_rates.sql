-- Which calendars and appointment types lose the most bookings? Per tenant, calendar and appointment type, over every
-- appointment that started before the latest run's as-of (removed ones excluded, since Acuity no longer has them):
--   booked             appointments booked for that slot, canceled included
--   cancellation_rate  canceled / booked
--   canceled           canceled bookings; a no-show (which Acuity marks canceled too) is counted as a no-show only
--   no_show_rate       no-shows / bookings that were not canceled (held or missed)
-- Rates are fractions in [0, 1] (0.125 = 12.5 %), null when there is nothing to divide by. Future appointments are
-- left out so a quiet future week does not dilute the rates. Sorted by cancellation rate, worst first.
with

appointments as (

    select * from {{ ref('appointments') }}
    where status <> 'removed'
        and not is_future
        and starts_at_utc is not null

),

counts as (

    select
        tenant_id,
        calendar,
        appointment_type,
        count(*) as booked,
        sum(case when status = 'canceled' then 1 else 0 end) as canceled,
        sum(case when status in ('scheduled', 'no_show') then 1 else 0 end) as held_or_missed,
        sum(case when status = 'no_show' then 1 else 0 end) as no_shows
    from appointments
    group by tenant_id, calendar, appointment_type

),
final as (

    select
        tenant_id,
        calendar,
        appointment_type,
        booked,
        canceled,
        no_shows,
        round(1.0 * canceled / nullif(booked, 0), 3) as cancellation_rate,
        round(1.0 * no_shows / nullif(held_or_missed, 0), 3) as no_show_rate
    from counts

)

select * from final
order by tenant_id, cancellation_rate desc, no_show_rate desc, calendar, appointment_type
