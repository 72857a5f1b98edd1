-- Who brings in the money? The 20 contacts of each tenant with the most paid and delivered order revenue (unpaid
-- orders never count), with how to reach them. share_of_revenue is the contact's part of the tenant's order revenue,
-- unmatched orders included (0.25 = a quarter), so the column does not add up to 1 when some revenue matches no
-- contact: that remainder is unmatched_revenue in marts.revenue_reconciliation. appointment_payments is what the contact
-- paid on appointments, which is not part of order_revenue. rank 1 is the biggest; ties share no rank (by contact_id).
with

contact_revenue as (

    select * from {{ ref('contact_revenue') }}

),

contacts as (

    select * from {{ ref('contacts') }}

),

-- the share is of every revenue dollar, unmatched orders included
tenant_totals as (

    select
        tenant_id,
        total_revenue as tenant_revenue
    from {{ ref('revenue_reconciliation') }}

),

ranked as (

    select
        contact_revenue.*,
        row_number() over (
            partition by contact_revenue.tenant_id
            order by contact_revenue.order_revenue desc, contact_revenue.contact_id
        ) as revenue_rank
    from contact_revenue
    where contact_revenue.order_revenue > 0

),

final as (

    select
        ranked.tenant_id,
        ranked.revenue_rank,
        contacts.first_name,
        contacts.last_name,
        contacts.email,
        contacts.phone,
        ranked.revenue_orders,
        ranked.order_revenue,
        round(ranked.order_revenue / nullif(tenant_totals.tenant_revenue, 0), 3) as share_of_revenue,
        ranked.appointment_payments,
        ranked.first_order_at,
        ranked.last_order_at,
        ranked.contact_id
    from ranked
    inner join contacts
        on contacts.tenant_id = ranked.tenant_id
        and contacts.contact_id = ranked.contact_id
    inner join tenant_totals
        on tenant_totals.tenant_id = ranked.tenant_id
    where ranked.revenue_rank <= 20

)

select * from final
order by tenant_id, revenue_rank
