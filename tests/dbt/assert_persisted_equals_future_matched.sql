-- persisted = matched rows of future_appointments, for each tenant's latest run
with

metrics as (

    select * from {{ ref('sync_metrics') }}

),

runs as (

    select * from {{ ref('int_acuity__latest_runs') }}

),

future as (

    select tenant_id, count(*) as matched_rows
    from {{ ref('future_appointments') }}
    where match_rule <> 'unmatched'
    group by tenant_id

)

select metrics.tenant_id, metrics.appointments_persisted, coalesce(future.matched_rows, 0) as matched_rows
from metrics
inner join runs
    on runs.tenant_id = metrics.tenant_id
    and runs.run_id = metrics.run_id
left join future
    on future.tenant_id = metrics.tenant_id
where metrics.appointments_persisted <> coalesce(future.matched_rows, 0)
