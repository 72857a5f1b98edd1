-- One row per tenant: how fresh its marts are. The latest successful run (what every mart describes), how many runs
-- failed or were interrupted after it, the last of those, and when this build ran: the analysts' copy is published
-- seconds after a build whose every test passed, so built_at is the copy's age.
with

runs as (

    select * from {{ ref('sync_runs') }}

),

latest as (

    select tenant_id, run_id, as_of, finished_at
    from runs
    where is_latest

),

not_successful as (

    select
        runs.*,
        row_number() over (partition by runs.tenant_id order by runs.finished_at desc, runs.run_id desc) as recency
    from runs
    where runs.status <> 'success'

),

since as (

    select not_successful.tenant_id, cast(count(*) as bigint) as failed_since
    from not_successful
    left join latest on latest.tenant_id = not_successful.tenant_id
    where latest.finished_at is null or not_successful.started_at > latest.finished_at
    group by not_successful.tenant_id

),

tenants as (

    select distinct tenant_id from runs

),

final as (

    select
        tenants.tenant_id,
        latest.run_id as last_success_run_id,
        latest.as_of as last_success_as_of,
        latest.finished_at as last_success_at,
        coalesce(since.failed_since, 0) as failed_since,
        last_failure.finished_at as last_failure_at,
        last_failure.status as last_failure_status,
        last_failure.stage as last_failure_stage,
        last_failure.error as last_failure_error,
        cast({{ dbt.current_timestamp() }} as timestamp) as built_at
    from tenants
    left join latest on latest.tenant_id = tenants.tenant_id
    left join since on since.tenant_id = tenants.tenant_id
    left join not_successful as last_failure
        on last_failure.tenant_id = tenants.tenant_id
        and last_failure.recency = 1

)

select * from final
