-- Who brings in the money? The 20 contacts of each tenant who paid the most in total: total_collected = order_revenue
-- (paid and delivered orders: products, packages, gift certificates) + appointment_payments (what was paid on their
-- appointments, canceled ones included); no dollar is in both (see `make docs`, the money terms). share_of_total is
-- the contact's part of everything the tenant collected, unmatched money included (0.25 = a quarter), so the column
-- does not add up to 1 when some money matches no contact: marts.revenue_reconciliation holds that part. rank 1 is
-- the biggest; ties share no rank (by contact_id).
with

contact_revenue as (

    select * from {{ ref('contact_revenue') }}

),

contacts as (

    select * from {{ ref('contacts') }}

),

-- the share is of every dollar collected, unmatched orders and appointments included
tenant_totals as (

    select
        tenant_id,
        total_collected as tenant_collected
    from {{ ref('revenue_reconciliation') }}

),

ranked as (

    select
        contact_revenue.*,
        row_number() over (
            partition by contact_revenue.tenant_id
            order by contact_revenue.total_collected desc, contact_revenue.contact_id
        ) as revenue_rank
    from contact_revenue
    where contact_revenue.total_collected > 0

),

final as (

    select
        ranked.tenant_id,
        ranked.revenue_rank,
        contacts.first_name,
        contacts.last_name,
        contacts.email,
        contacts.phone,
        ranked.total_collected,
        ranked.order_revenue,
        ranked.appointment_payments,
        round(ranked.total_collected / nullif(tenant_totals.tenant_collected, 0), 3) as share_of_total,
        ranked.revenue_orders,
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
