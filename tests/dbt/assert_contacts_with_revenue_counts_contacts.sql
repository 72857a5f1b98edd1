-- The latest run's contacts_with_revenue (computed through contact_revenue and revenue_reconciliation) equals the
-- contacts whose revenue orders sum above zero, counted from marts.orders itself: two paths to one number.
with

metrics as (

    select * from {{ ref('sync_metrics') }}

),

per_contact as (

    select tenant_id, contact_id
    from {{ ref('orders') }}
    where counts_as_revenue
        and contact_id is not null
    group by tenant_id, contact_id
    having sum(order_total) > 0

),

contacts_with_revenue as (

    select tenant_id, count(*) as contacts
    from per_contact
    group by tenant_id

)

select metrics.tenant_id, metrics.contacts_with_revenue, coalesce(contacts_with_revenue.contacts, 0) as from_orders
from metrics
left join contacts_with_revenue
    on contacts_with_revenue.tenant_id = metrics.tenant_id
where metrics.contacts_with_revenue <> coalesce(contacts_with_revenue.contacts, 0)
