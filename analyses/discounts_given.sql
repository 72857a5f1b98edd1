-- What did discounts cost? Per tenant and code, every appointment held (scheduled or a no-show) that sold below its
-- list price: list_price (add-ons included), price_sold (after the coupon), discount (the difference: what the code
-- took off, money never collected) and discount_share (discount / list price; 0.2 = 20 % off). A discount without a
-- code (a price staff changed by hand) is under '(no code)'. Canceled appointments are left out: nothing was sold.
-- A package or gift-certificate code gives no discount: it pays the price (see package_use). Biggest cost first.
with

appointments as (

    select * from {{ ref('appointments') }}
    where status in ('scheduled', 'no_show')
        and discount > 0

),

final as (

    select
        tenant_id,
        coalesce(certificate_code, '(no code)') as code,
        count(*) as appointments,
        sum(price) as list_price,
        sum(price_sold) as price_sold,
        sum(discount) as discount,
        round(sum(discount) / nullif(sum(price), 0), 3) as discount_share,
        min(starts_at_local) as first_used_at,
        max(starts_at_local) as last_used_at
    from appointments
    group by tenant_id, coalesce(certificate_code, '(no code)')

)

select * from final
order by tenant_id, discount desc, code
