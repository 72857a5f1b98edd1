-- Money per contact, one row per contact, each figure under its own name (models/docs.md defines them once): order
-- revenue (orders whose status counts, seeds/order_statuses.csv), appointment payments (amountPaid of the contact's
-- appointments) and their sum, total collected. Money that matches no contact is not here: revenue_reconciliation
-- holds it, beside the totals it adds up to.
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
        appointment_payments,
        total_collected
    from contacts

)

select * from final
