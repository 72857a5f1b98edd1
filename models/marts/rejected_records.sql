-- What the latest sync of each tenant could not load cleanly, with Acuity's payload: the list to fix in Acuity.
with

rejected as (

    select * from {{ ref('stg_acuity__rejected_records') }}

),

runs as (

    select * from {{ ref('int_acuity__latest_runs') }}

),

final as (

    select
        rejected.tenant_id,
        rejected.run_id,
        rejected.resource,
        rejected.record_id,
        rejected.reason,
        rejected.action,
        rejected.payload
    from rejected
    inner join runs
        on runs.tenant_id = rejected.tenant_id
        and runs.run_id = rejected.run_id

)

select * from final
