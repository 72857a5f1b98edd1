-- Add-ons on appointments (a bridge: one row per appointment and add-on), with the add-on's name and its price as
-- /appointment-addons lists it now (Acuity keeps no price per booking: the appointment's price includes it), to count
-- and value add-ons by appointment, month, calendar or client.
with

appointment_addons as (

    select * from {{ ref('stg_acuity__appointment_addons') }}

),

addons as (

    select * from {{ ref('stg_acuity__addons') }}

),

appointments as (

    select * from {{ ref('appointments') }}

),

final as (

    select
        appointment_addons.tenant_id,
        appointment_addons.appointment_id,
        appointment_addons.addon_id,
        addons.addon_name,
        addons.addon_price,
        addons.addon_duration_minutes,
        addons.is_private,
        coalesce(addons.is_removed, true) as is_addon_removed,
        appointments.starts_at_local,
        appointments.status,
        appointments.calendar,
        appointments.appointment_type,
        appointments.contact_id
    from appointment_addons
    inner join appointments
        on appointments.tenant_id = appointment_addons.tenant_id
        and appointments.appointment_id = appointment_addons.appointment_id
    left join addons
        on addons.tenant_id = appointment_addons.tenant_id
        and addons.addon_id = appointment_addons.addon_id

)

select * from final
