-- Two independent counts of what is booked from each tenant's latest run on: the appointments the extractor loaded
-- that start at or after as-of and are not canceled (counted in Python as it loaded them: the run row's
-- appointments_future_active), against the rows of marts.future_appointments and the run metrics' persisted +
-- unmatched. A model that drops, duplicates or misplaces a booking fails here, and so does a tenant whose mart is
-- empty while its run loaded bookings. Runs that kept absent appointments as last seen (appointments_held) are not
-- judged: those were not loaded, so the extractor did not count them. A run is judged on the dates it read (its
-- window): bookings beyond a shorter horizon (ACUITY_HORIZON_DAYS=30) stay in the mart from earlier runs, unread.
with

runs as (

    select * from {{ ref('int_acuity__latest_runs') }}
    where coalesce(appointments_held, 0) = 0
        and appointments_future_active is not null

),

future_appointments as (

    select * from {{ ref('future_appointments') }}

),

metrics as (

    select * from {{ ref('sync_metrics') }}

),

booked as (

    select future_appointments.tenant_id, count(*) as rows_in_mart
    from future_appointments
    inner join runs
        on runs.tenant_id = future_appointments.tenant_id
    where cast(future_appointments.starts_at_local as date) <= runs.window_last
    group by future_appointments.tenant_id

)

select
    runs.tenant_id,
    runs.appointments_future_active as loaded,
    coalesce(booked.rows_in_mart, 0) as rows_in_mart,
    metrics.appointments_persisted + metrics.appointments_skipped_unmatched as in_metrics
from runs
left join booked
    on booked.tenant_id = runs.tenant_id
left join metrics
    on metrics.tenant_id = runs.tenant_id
where runs.appointments_future_active <> coalesce(booked.rows_in_mart, 0)
    or metrics.tenant_id is null
    or runs.appointments_future_active <> metrics.appointments_persisted + metrics.appointments_skipped_unmatched
