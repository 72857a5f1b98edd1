-- How are packages, gift certificates and subscriptions used? Per tenant and product, over its codes
-- (marts.certificates):
--   codes, codes_used       codes sold (or given), and those booked with at least once
--   sold_for                the order revenue their paid orders brought (counted once, when the order was paid)
--   appointments_booked     appointments booked with them, scheduled or no-show (a canceled one gave its use back);
--                           their list_price is what those services list at, paid_on_top what clients paid on them
--                           besides the code (add-ons, the balance a gift certificate did not cover)
--   uses_left, value_left   what is still owed to clients on the codes that have not expired (null when the product
--                           counts no uses, or no value); expired_unused counts codes that expired with something left
-- sold_for against list_price shows what the package discount cost; uses_left is work still to deliver.
with

certificates as (

    select * from {{ ref('certificates') }}
    where not is_removed

),

final as (

    select
        tenant_id,
        coalesce(product, '(unnamed product)') as product,
        count(*) as codes,
        sum(case when appointments_booked > 0 then 1 else 0 end) as codes_used,
        sum(case when order_counts_as_revenue then order_total else 0 end) as sold_for,
        sum(appointments_booked) as appointments_booked,
        sum(appointments_list_price) as list_price,
        sum(paid_on_appointments) as paid_on_top,
        -- null when no code of the product counts uses (or value); an expired code owes nothing
        sum(case when is_expired and remaining_uses is not null then 0 else remaining_uses end) as uses_left,
        sum(case when is_expired and remaining_value is not null then 0 else remaining_value end) as value_left,
        sum(case when is_expired and (remaining_uses > 0 or remaining_value > 0) then 1 else 0 end) as expired_unused
    from certificates
    group by tenant_id, coalesce(product, '(unnamed product)')

)

select * from final
order by tenant_id, sold_for desc, product
