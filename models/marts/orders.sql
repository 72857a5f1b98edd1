-- Every order ever synced, in its current version, with the contact it matched and whether it counts as revenue.
with

orders as (

    select * from {{ ref('int_acuity__orders_matched') }}

),

final as (

    select
        tenant_id,
        order_id,
        contact_id,
        match_rule,
        order_status,
        is_revenue and not is_removed as counts_as_revenue,
        order_total,
        ordered_at_local,
        title,
        first_name,
        last_name,
        email_normalised as email,
        phone_normalised as phone,
        is_removed
    from orders

)

select * from final
