-- Revenue per contact: paid and delivered orders (unpaid never count), plus what contacts paid on appointments
-- as a separate column. Orders that match no contact are kept in one visible bucket per tenant, so the revenue
-- of this table always adds up to the tenant's paid/delivered order total.
with

contacts as (

    select * from {{ ref('contacts') }}

),

orders as (

    select * from {{ ref('int_acuity__orders_matched') }}
    where is_revenue and not is_removed

),

appointments as (

    select * from {{ ref('int_acuity__appointments_matched') }}
    where not is_removed and contact_id is not null

),

tenants as (

    select tenant_id from {{ ref('int_acuity__latest_runs') }}

),

order_totals as (

    select
        tenant_id,
        contact_id,
        count(*) as revenue_orders,
        sum(order_total) as order_revenue,
        min(ordered_at_local) as first_order_at,
        max(ordered_at_local) as last_order_at
    from orders
    group by tenant_id, contact_id

),

appointment_payments as (

    select
        tenant_id,
        contact_id,
        sum(amount_paid) as appointment_payments
    from appointments
    group by tenant_id, contact_id

),

per_contact as (

    select
        contacts.tenant_id,
        contacts.contact_id as revenue_key,
        contacts.contact_id,
        false as is_unmatched_bucket,
        coalesce(order_totals.revenue_orders, 0) as revenue_orders,
        cast(coalesce(order_totals.order_revenue, 0) as decimal(14, 2)) as order_revenue,
        order_totals.first_order_at,
        order_totals.last_order_at,
        cast(coalesce(appointment_payments.appointment_payments, 0) as decimal(14, 2)) as appointment_payments
    from contacts
    left join order_totals
        on order_totals.tenant_id = contacts.tenant_id
        and order_totals.contact_id = contacts.contact_id
    left join appointment_payments
        on appointment_payments.tenant_id = contacts.tenant_id
        and appointment_payments.contact_id = contacts.contact_id

),

unmatched as (

    select
        tenants.tenant_id,
        'unmatched' as revenue_key,
        cast(null as {{ dbt.type_string() }}) as contact_id,
        true as is_unmatched_bucket,
        coalesce(order_totals.revenue_orders, 0) as revenue_orders,
        cast(coalesce(order_totals.order_revenue, 0) as decimal(14, 2)) as order_revenue,
        order_totals.first_order_at,
        order_totals.last_order_at,
        cast(0 as decimal(14, 2)) as appointment_payments
    from tenants
    left join order_totals
        on order_totals.tenant_id = tenants.tenant_id
        and order_totals.contact_id is null

),

final as (

    select * from per_contact
    union all
    select * from unmatched

)

select * from final
