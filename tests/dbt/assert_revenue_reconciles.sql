-- per tenant: total = Σ revenue orders in staging = matched (Σ contact_revenue) + unmatched (Σ orders no contact matched);
-- a tenant with revenue orders in staging but no reconciliation row (the mart lost it) fails too
with

reconciliation as (

    select * from {{ ref('revenue_reconciliation') }}

),

staged as (

    select tenant_id, sum(order_total) as order_revenue
    from {{ ref('stg_acuity__orders') }}
    where is_revenue and not is_removed
    group by tenant_id

),

per_contact as (

    select tenant_id, sum(order_revenue) as matched_revenue
    from {{ ref('contact_revenue') }}
    group by tenant_id

),

unmatched as (

    select tenant_id, sum(order_total) as unmatched_revenue
    from {{ ref('orders') }}
    where counts_as_revenue and contact_id is null
    group by tenant_id

),

unequal as (

    select reconciliation.tenant_id, reconciliation.total_revenue, staged.order_revenue
    from reconciliation
    left join staged on staged.tenant_id = reconciliation.tenant_id
    left join per_contact on per_contact.tenant_id = reconciliation.tenant_id
    left join unmatched on unmatched.tenant_id = reconciliation.tenant_id
    where reconciliation.total_revenue <> coalesce(staged.order_revenue, 0)
        or reconciliation.matched_revenue <> coalesce(per_contact.matched_revenue, 0)
        or reconciliation.unmatched_revenue <> coalesce(unmatched.unmatched_revenue, 0)
        or reconciliation.total_revenue <> reconciliation.matched_revenue + reconciliation.unmatched_revenue

),

unreconciled as (

    select staged.tenant_id, cast(null as decimal(14, 2)) as total_revenue, staged.order_revenue
    from staged
    left join reconciliation on reconciliation.tenant_id = staged.tenant_id
    where reconciliation.tenant_id is null

),

final as (

    select * from unequal
    union all
    select * from unreconciled

)

select * from final
