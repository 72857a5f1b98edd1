-- One row per tenant: where every revenue dollar went. total_revenue (every order that counts as revenue) =
-- matched_revenue (the sum of contact_revenue) + unmatched_revenue (orders no contact matched), so the unmatched part
-- stays visible and the totals add up.
with

orders as (

    select * from {{ ref('orders') }}
    where counts_as_revenue

),

contact_revenue as (

    select * from {{ ref('contact_revenue') }}

),

runs as (

    select * from {{ ref('int_acuity__latest_runs') }}

),

order_totals as (

    select
        tenant_id,
        count(*) as revenue_orders,
        sum(order_total) as total_revenue,
        sum(case when contact_id is null then 1 else 0 end) as unmatched_orders,
        sum(case when contact_id is null then order_total else 0 end) as unmatched_revenue
    from orders
    group by tenant_id

),

contact_totals as (

    select
        tenant_id,
        sum(case when order_revenue > 0 then 1 else 0 end) as contacts_with_revenue,
        sum(order_revenue) as matched_revenue,
        sum(appointment_payments) as appointment_payments
    from contact_revenue
    group by tenant_id

),

final as (

    select
        runs.tenant_id,
        cast(coalesce(order_totals.revenue_orders, 0) as bigint) as revenue_orders,
        cast(coalesce(order_totals.total_revenue, 0) as decimal(14, 2)) as total_revenue,
        cast(coalesce(contact_totals.matched_revenue, 0) as decimal(14, 2)) as matched_revenue,
        cast(coalesce(order_totals.unmatched_revenue, 0) as decimal(14, 2)) as unmatched_revenue,
        cast(coalesce(order_totals.unmatched_orders, 0) as bigint) as unmatched_orders,
        cast(coalesce(contact_totals.contacts_with_revenue, 0) as bigint) as contacts_with_revenue,
        cast(coalesce(contact_totals.appointment_payments, 0) as decimal(14, 2)) as appointment_payments
    from runs
    left join order_totals
        on order_totals.tenant_id = runs.tenant_id
    left join contact_totals
        on contact_totals.tenant_id = runs.tenant_id

)

select * from final
