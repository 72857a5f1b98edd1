-- Σ revenue per contact + unmatched bucket = Σ paid/delivered order totals, per tenant
with

revenue as (

    select tenant_id, sum(order_revenue) as bucketed_revenue
    from {{ ref('contact_revenue') }}
    group by tenant_id

),

orders as (

    select tenant_id, sum(order_total) as order_revenue
    from {{ ref('stg_acuity__orders') }}
    where is_revenue and not is_removed
    group by tenant_id

)

select revenue.tenant_id, revenue.bucketed_revenue, orders.order_revenue
from revenue
left join orders
    on orders.tenant_id = revenue.tenant_id
where revenue.bucketed_revenue <> coalesce(orders.order_revenue, 0)
