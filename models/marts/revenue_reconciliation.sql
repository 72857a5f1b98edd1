-- One row per tenant: where every dollar went, each figure under its own name (models/docs.md defines them once).
-- Order revenue: total_revenue (every order that counts as revenue; the seed's metric keeps its name) =
-- matched_revenue (the sum of contact_revenue.order_revenue) + unmatched_revenue (orders no contact matched).
-- Appointment payments: appointment_payments = matched_appointment_payments (the sum of contact_revenue) +
-- unmatched_appointment_payments (appointments no contact matched). total_collected = total_revenue +
-- appointment_payments: a package's money is in its order, never again on the appointments its code paid for.
with

orders as (

    select * from {{ ref('orders') }}
    where counts_as_revenue

),

appointments as (

    select * from {{ ref('appointments') }}
    where status <> 'removed'

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

payment_totals as (

    select
        tenant_id,
        sum(case when contact_id is null then amount_paid else 0 end) as unmatched_appointment_payments
    from appointments
    group by tenant_id

),

contact_totals as (

    select
        tenant_id,
        sum(case when order_revenue > 0 then 1 else 0 end) as contacts_with_revenue,
        sum(case when total_collected > 0 then 1 else 0 end) as contacts_paying,
        sum(order_revenue) as matched_revenue,
        sum(appointment_payments) as matched_appointment_payments
    from contact_revenue
    group by tenant_id

),

totals as (

    select
        runs.tenant_id,
        cast(coalesce(order_totals.revenue_orders, 0) as bigint) as revenue_orders,
        cast(coalesce(order_totals.total_revenue, 0) as decimal(14, 2)) as total_revenue,
        cast(coalesce(contact_totals.matched_revenue, 0) as decimal(14, 2)) as matched_revenue,
        cast(coalesce(order_totals.unmatched_revenue, 0) as decimal(14, 2)) as unmatched_revenue,
        cast(coalesce(order_totals.unmatched_orders, 0) as bigint) as unmatched_orders,
        cast(coalesce(contact_totals.contacts_with_revenue, 0) as bigint) as contacts_with_revenue,
        cast(coalesce(contact_totals.matched_appointment_payments, 0) as decimal(14, 2))
            as matched_appointment_payments,
        cast(coalesce(payment_totals.unmatched_appointment_payments, 0) as decimal(14, 2))
            as unmatched_appointment_payments,
        cast(coalesce(contact_totals.contacts_paying, 0) as bigint) as contacts_paying
    from runs
    left join order_totals
        on order_totals.tenant_id = runs.tenant_id
    left join payment_totals
        on payment_totals.tenant_id = runs.tenant_id
    left join contact_totals
        on contact_totals.tenant_id = runs.tenant_id

),

final as (

    select
        tenant_id,
        revenue_orders,
        total_revenue,
        matched_revenue,
        unmatched_revenue,
        unmatched_orders,
        contacts_with_revenue,
        cast(matched_appointment_payments + unmatched_appointment_payments as decimal(14, 2)) as appointment_payments,
        matched_appointment_payments,
        unmatched_appointment_payments,
        cast(total_revenue + matched_appointment_payments + unmatched_appointment_payments as decimal(14, 2))
            as total_collected,
        contacts_paying
    from totals

)

select * from final
