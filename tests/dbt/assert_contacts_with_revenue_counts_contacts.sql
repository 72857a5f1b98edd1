-- the latest run's contacts_with_revenue and total_revenue are what the revenue marts hold
with

metrics as (

    select * from {{ ref('sync_metrics') }}

),

revenue as (

    select
        tenant_id,
        sum(case when order_revenue > 0 then 1 else 0 end) as contacts_with_revenue
    from {{ ref('contact_revenue') }}
    group by tenant_id

),

reconciliation as (

    select * from {{ ref('revenue_reconciliation') }}

)

select metrics.tenant_id
from metrics
left join revenue
    on revenue.tenant_id = metrics.tenant_id
left join reconciliation
    on reconciliation.tenant_id = metrics.tenant_id
where metrics.contacts_with_revenue <> coalesce(revenue.contacts_with_revenue, 0)
    or metrics.total_revenue <> coalesce(reconciliation.total_revenue, 0)
