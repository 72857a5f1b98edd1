-- How much came in each month, and from where? Per tenant and month: order_revenue (paid and delivered orders, by the
-- month they were ordered, account-local time), appointment_payments (what was paid on appointments, by the month of
-- the appointment, calendar-local time: Acuity dates no payment; canceled appointments that were paid count) and
-- total_collected, their sum. No dollar is in both: a package's or gift certificate's money is its order's, and the
-- appointments its code paid for carry only what the client paid on top. Each figure is defined in `make docs`; the
-- months add up to marts.revenue_reconciliation, but for an order Acuity sent no time or an appointment with no start.
with

orders as (

    select * from {{ ref('orders') }}
    where counts_as_revenue
        and ordered_at_local is not null

),

appointments as (

    select * from {{ ref('appointments') }}
    where status <> 'removed'
        and starts_at_local is not null
        and amount_paid <> 0

),

monthly_orders as (

    select
        tenant_id,
        cast({{ dbt.date_trunc('month', 'ordered_at_local') }} as date) as month_start,
        count(*) as revenue_orders,
        sum(order_total) as order_revenue
    from orders
    group by 1, 2

),

monthly_payments as (

    select
        tenant_id,
        cast({{ dbt.date_trunc('month', 'starts_at_local') }} as date) as month_start,
        count(*) as paid_appointments,
        sum(amount_paid) as appointment_payments
    from appointments
    group by 1, 2

),

months as (

    select tenant_id, month_start from monthly_orders
    union
    select tenant_id, month_start from monthly_payments

),

final as (

    select
        months.tenant_id,
        months.month_start,
        coalesce(monthly_orders.order_revenue, 0) as order_revenue,
        coalesce(monthly_payments.appointment_payments, 0) as appointment_payments,
        coalesce(monthly_orders.order_revenue, 0) + coalesce(monthly_payments.appointment_payments, 0)
            as total_collected,
        coalesce(monthly_orders.revenue_orders, 0) as revenue_orders,
        coalesce(monthly_payments.paid_appointments, 0) as paid_appointments
    from months
    left join monthly_orders
        on monthly_orders.tenant_id = months.tenant_id
        and monthly_orders.month_start = months.month_start
    left join monthly_payments
        on monthly_payments.tenant_id = months.tenant_id
        and monthly_payments.month_start = months.month_start

)

select * from final
order by tenant_id, month_start
