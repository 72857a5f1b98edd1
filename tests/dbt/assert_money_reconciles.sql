-- Every money figure adds up from the records it counts, per contact and per tenant, so a model that drops, doubles
-- or moves a dollar fails the build. Per contact: order revenue = Σ its revenue orders, appointment payments = Σ
-- amount paid on its appointments Acuity still has, total collected = the two. Per tenant: appointment payments = Σ
-- amount paid in staging (not through the marts), total collected = order revenue + appointment payments = Σ
-- contacts' totals + what matched no contact. One row per figure that does not add up.
with

contact_revenue as (

    select * from {{ ref('contact_revenue') }}

),

reconciliation as (

    select * from {{ ref('revenue_reconciliation') }}

),

orders as (

    select * from {{ ref('orders') }}
    where counts_as_revenue and contact_id is not null

),

appointments as (

    select * from {{ ref('appointments') }}
    where status <> 'removed' and contact_id is not null

),

staged_payments as (

    select tenant_id, sum(coalesce(amount_paid, 0)) as appointment_payments
    from {{ ref('stg_acuity__appointments') }}
    where not is_removed
    group by tenant_id

),

order_sums as (

    select tenant_id, contact_id, sum(order_total) as order_revenue
    from orders
    group by tenant_id, contact_id

),

payment_sums as (

    select tenant_id, contact_id, sum(coalesce(amount_paid, 0)) as appointment_payments
    from appointments
    group by tenant_id, contact_id

),

contact_sums as (

    select tenant_id, sum(total_collected) as total_collected
    from contact_revenue
    group by tenant_id

),

per_contact as (

    select
        contact_revenue.tenant_id,
        contact_revenue.contact_id,
        'contact' as grain
    from contact_revenue
    left join order_sums
        on order_sums.tenant_id = contact_revenue.tenant_id
        and order_sums.contact_id = contact_revenue.contact_id
    left join payment_sums
        on payment_sums.tenant_id = contact_revenue.tenant_id
        and payment_sums.contact_id = contact_revenue.contact_id
    where contact_revenue.order_revenue <> coalesce(order_sums.order_revenue, 0)
        or contact_revenue.appointment_payments <> coalesce(payment_sums.appointment_payments, 0)
        or contact_revenue.total_collected <> contact_revenue.order_revenue + contact_revenue.appointment_payments

),

per_tenant as (

    select
        reconciliation.tenant_id,
        cast(null as {{ dbt.type_string() }}) as contact_id,
        'tenant' as grain
    from reconciliation
    left join staged_payments
        on staged_payments.tenant_id = reconciliation.tenant_id
    left join contact_sums
        on contact_sums.tenant_id = reconciliation.tenant_id
    where reconciliation.appointment_payments <> coalesce(staged_payments.appointment_payments, 0)
        or reconciliation.total_collected <> reconciliation.total_revenue + reconciliation.appointment_payments
        or reconciliation.total_collected <> coalesce(contact_sums.total_collected, 0)
        + reconciliation.unmatched_revenue + reconciliation.unmatched_appointment_payments

),

final as (

    select * from per_contact
    union all
    select * from per_tenant

)

select * from final
