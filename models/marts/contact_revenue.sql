-- Revenue per contact, one row per contact: revenue orders (order statuses that count as revenue, seeds/
-- order_statuses.csv) and, separately, what the contact paid on appointments. Orders that match no contact are not
-- here: revenue_reconciliation holds them, beside the totals they add up to.
with

contacts as (

    select * from {{ ref('contacts') }}

),

final as (

    select
        tenant_id,
        contact_id,
        revenue_orders,
        order_revenue,
        first_order_at,
        last_order_at,
        appointment_payments
    from contacts

)

select * from final
