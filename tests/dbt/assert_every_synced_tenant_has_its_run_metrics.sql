-- Every tenant with a successful run in the raw run rows has its latest run in marts.sync_metrics: the invariants
-- judge what is there, so a tenant missing from the metrics would escape every one of them.
with

synced as (

    select distinct tenant_id
    from {{ ref('stg_acuity__sync_runs') }}
    where status = 'success'

),

metrics as (

    select * from {{ ref('sync_metrics') }}

)

select synced.tenant_id
from synced
left join metrics
    on metrics.tenant_id = synced.tenant_id
where metrics.tenant_id is null
