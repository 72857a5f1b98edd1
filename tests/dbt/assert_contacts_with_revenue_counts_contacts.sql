-- contacts_with_revenue = contacts whose revenue > 0, and total_revenue = Σ contact_revenue, for each latest run
with

metrics as (

    select * from {{ ref('sync_metrics') }}

),

revenue as (

    select
        tenant_id,
        sum(case when not is_unmatched_bucket and order_revenue > 0 then 1 else 0 end) as contacts_with_revenue,
        sum(order_revenue) as total_revenue
    from {{ ref('contact_revenue') }}
    group by tenant_id

)

select metrics.tenant_id
from metrics
left join revenue
    on revenue.tenant_id = metrics.tenant_id
where metrics.contacts_with_revenue <> coalesce(revenue.contacts_with_revenue, 0)
    or metrics.total_revenue <> coalesce(revenue.total_revenue, 0)
