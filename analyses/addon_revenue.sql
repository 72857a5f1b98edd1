-- What do add-ons bring? Per tenant and add-on (marts.appointment_addons), over appointments still in Acuity: how
-- many were held (scheduled or a no-show) and canceled with it, its price as /appointment-addons lists it today, and
-- held_value, held appointments × that price. Acuity keeps no price per booking (an appointment's list price includes
-- its add-ons' prices as they were when booked), so held_value is at today's price; an add-on whose price changed is
-- best read by its count. Private add-ons are the ones only staff can add. Most valuable first.
with

addons as (

    select * from {{ ref('appointment_addons') }}
    where status <> 'removed'

),

final as (

    select
        tenant_id,
        coalesce(addon_name, 'add-on ' || cast(addon_id as {{ dbt.type_string() }})) as addon,
        max(addon_price) as addon_price,
        sum(case when status in ('scheduled', 'no_show') then 1 else 0 end) as held,
        sum(case when status = 'canceled' then 1 else 0 end) as canceled,
        sum(case when status in ('scheduled', 'no_show') then addon_price else 0 end) as held_value,
        bool_or(is_private) as is_private,
        addon_id
    from addons
    group by tenant_id, addon_id, addon_name

)

select * from final
order by tenant_id, held_value desc, addon
