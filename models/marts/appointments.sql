-- Every appointment ever synced, in its current version, with its status, the contact it matched and the rule that
-- matched it. History for cancellations, no-shows, utilisation and new vs returning clients; future_appointments is
-- the subset of scheduled ones from the latest run's as-of on.
with

appointments as (

    select * from {{ ref('int_acuity__appointments_matched') }}

),

runs as (

    select * from {{ ref('int_acuity__latest_runs') }}

),

final as (

    select
        appointments.tenant_id,
        appointments.appointment_id,
        appointments.contact_id,
        appointments.match_rule,
        -- Acuity marks a no-show through its cancel call (canceled and noShow both true); older data and some
        -- accounts have noShow alone. Either way it is a no-show, never also a cancellation.
        case
            when appointments.is_removed then 'removed'
            when appointments.is_no_show then 'no_show'
            when appointments.is_canceled then 'canceled'
            else 'scheduled'
        end as status,
        coalesce(appointments.starts_at_utc >= runs.as_of, false) as is_future,
        appointments.starts_at_local,
        appointments.starts_at_utc,
        appointments.calendar_timezone as timezone,
        appointments.utc_offset_minutes,
        appointments.duration_minutes,
        appointments.appointment_type_id,
        appointments.appointment_type,
        appointments.category,
        appointments.calendar_id,
        appointments.calendar,
        appointments.price,
        appointments.amount_paid,
        appointments.is_paid,
        appointments.first_name,
        appointments.last_name,
        appointments.email_normalised as email,
        appointments.phone_normalised as phone,
        appointments.created_at_utc,
        appointments.is_canceled,
        appointments.is_no_show,
        appointments.is_removed,
        cast(appointments.removed_at as timestamp) as removed_at,
        appointments.version_count,
        runs.as_of
    from appointments
    inner join runs
        on runs.tenant_id = appointments.tenant_id

)

select * from final
