-- What does each calendar (a member of staff, a room, a location) bring in? Per tenant and calendar, over every
-- appointment still in Acuity:
--   appointments          booked, canceled and no-shows included; held: not canceled (no-shows took their slot)
--   list_price            the held appointments' list prices (add-ons included), price_sold what they sold for after
--                         coupons, discount the difference (see `make docs` for each term)
--   appointment_payments  what was paid on its appointments, canceled ones included (Acuity refunds nothing on
--                         cancel); share_of_payments its part of the tenant's appointment payments
-- Orders (products, packages, gift certificates) belong to no calendar: their money is in revenue_by_month. An
-- appointment booked with a package code sells at its list price but carries only what the client paid on top, so
-- list_price minus appointment_payments shows what packages, unpaid balances and cancellations left uncollected.
-- Sorted by appointment payments, most first.
with

appointments as (

    select * from {{ ref('appointments') }}
    where status <> 'removed'

),

grouped as (

    select
        tenant_id,
        calendar,
        count(*) as appointments,
        sum(case when status in ('scheduled', 'no_show') then 1 else 0 end) as held,
        sum(case when status in ('scheduled', 'no_show') then price else 0 end) as list_price,
        sum(case when status in ('scheduled', 'no_show') then price_sold else 0 end) as price_sold,
        sum(case when status in ('scheduled', 'no_show') then discount else 0 end) as discount,
        sum(coalesce(amount_paid, 0)) as appointment_payments
    from appointments
    group by tenant_id, calendar

),

final as (

    select
        tenant_id,
        calendar,
        appointments,
        held,
        list_price,
        price_sold,
        discount,
        appointment_payments,
        round(appointment_payments / nullif(sum(appointment_payments) over (partition by tenant_id), 0), 3)
            as share_of_payments
    from grouped

)

select * from final
order by tenant_id, appointment_payments desc, calendar
