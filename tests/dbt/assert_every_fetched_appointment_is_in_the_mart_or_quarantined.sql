-- Every appointment each tenant's latest run read (the run row's fetched_appointments, counted as the extractor read
-- them) is in marts.appointments, dated in what the run read and not removed, or was quarantined (its row in
-- rejected_records); those the run kept as last seen without reading them (appointments_held) are in the mart too.
-- The run metrics' buckets say the same through another path (sync_runs' fetched invariant); this one reads the
-- appointments mart and rejected_records themselves, so a model that loses or invents an appointment fails here.
with

runs as (

    select * from {{ ref('int_acuity__latest_runs') }}

),

in_mart as (

    select runs.tenant_id, count(*) as appointments
    from {{ ref('appointments') }} as appointments
    inner join runs
        on runs.tenant_id = appointments.tenant_id
    where appointments.status <> 'removed'
        and (
            cast(appointments.starts_at_local as date) between runs.window_first and runs.window_last
            or (
                runs.reconcile_status = 'done'
                and cast(appointments.starts_at_local as date) between runs.reconcile_first and runs.reconcile_last
            )
        )
    group by runs.tenant_id

),

quarantined as (

    select rejected.tenant_id, count(*) as appointments
    from {{ ref('stg_acuity__rejected_records') }} as rejected
    inner join runs
        on runs.tenant_id = rejected.tenant_id
        and runs.run_id = rejected.run_id
    where rejected.resource = 'appointments'
        and rejected.action = 'skipped'
    group by rejected.tenant_id

)

select
    runs.tenant_id,
    runs.fetched_appointments,
    coalesce(runs.appointments_held, 0) as held,
    coalesce(in_mart.appointments, 0) as in_mart,
    coalesce(quarantined.appointments, 0) as quarantined
from runs
left join in_mart
    on in_mart.tenant_id = runs.tenant_id
left join quarantined
    on quarantined.tenant_id = runs.tenant_id
where runs.fetched_appointments + coalesce(runs.appointments_held, 0)
    <> coalesce(in_mart.appointments, 0) + coalesce(quarantined.appointments, 0)
