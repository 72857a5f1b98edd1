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
        appointments.first_name,
        appointments.last_name,
        appointments.appointment_type_id,
        appointments.appointment_type,
        appointments.calendar_id,
        appointments.calendar,
        appointments.calendar_timezone as timezone,
        appointments.starts_at_local,
        appointments.starts_at_utc,
        appointments.utc_offset_minutes,
        appointments.duration_minutes,
        appointments.price,
        appointments.amount_paid,
        appointments.is_paid,
        runs.run_id,
        runs.as_of
    from appointments
    inner join runs
        on runs.tenant_id = appointments.tenant_id
    where not appointments.is_removed
        and not appointments.is_canceled
        and appointments.starts_at_utc >= runs.as_of

)

select * from final
