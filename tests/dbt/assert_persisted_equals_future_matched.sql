-- persisted = matched rows of future_appointments within the window the run read, for each tenant's latest run
with

metrics as (

    select * from {{ ref('sync_metrics') }}

),

future as (

    select future.tenant_id, count(*) as matched_rows
    from {{ ref('future_appointments') }} as future
    inner join metrics
        on metrics.tenant_id = future.tenant_id
    where future.match_rule <> 'unmatched'
        and cast(future.starts_at_local as date) >= metrics.window_first
        and cast(future.starts_at_local as date) <= metrics.window_last
    group by future.tenant_id

)

select metrics.tenant_id, metrics.appointments_persisted, coalesce(future.matched_rows, 0) as matched_rows
from metrics
left join future
    on future.tenant_id = metrics.tenant_id
where metrics.appointments_persisted <> coalesce(future.matched_rows, 0)
