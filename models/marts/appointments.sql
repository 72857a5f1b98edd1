-- Every appointment ever synced, in its current version, with its status, the contact it matched and the rule that
-- matched it, and its money: list price, price sold, discount, what was paid on it, the code it was booked with and
-- its add-ons. History for cancellations, no-shows, utilisation, revenue and new vs returning clients;
-- future_appointments is the subset of scheduled ones from the latest run's as-of on.
with

appointments as (

    select * from {{ ref('int_acuity__appointments_matched') }}

),

runs as (

    select * from {{ ref('int_acuity__latest_runs') }}

),

appointment_addons as (

    select * from {{ ref('stg_acuity__appointment_addons') }}

),

addons as (

    select * from {{ ref('stg_acuity__addons') }}

),

certificates as (

    select * from {{ ref('stg_acuity__certificates') }}

),

-- add-ons Acuity no longer lists are named by the id alone
addons_per_appointment as (

    select
        appointment_addons.tenant_id,
        appointment_addons.appointment_id,
        {{ dbt.listagg(
            "coalesce(addons.addon_name, 'add-on ' || cast(appointment_addons.addon_id as " ~ dbt.type_string() ~ "))",
            "', '",
            "order by appointment_addons.addon_id") }} as addon_names,
        sum(addons.addon_price) as addon_price
    from appointment_addons
    left join addons
        on addons.tenant_id = appointment_addons.tenant_id
        and addons.addon_id = appointment_addons.addon_id
    group by appointment_addons.tenant_id, appointment_addons.appointment_id

),

-- codes are matched as Acuity shows them, ignoring case and outer spaces; a code listed twice names no product
products_by_code as (

    select tenant_id, upper(certificate_code) as code, min(product) as product
    from certificates
    where certificate_code is not null
    group by tenant_id, upper(certificate_code)
    having count(*) = 1

),

final as (

    select
        appointments.tenant_id,
        appointments.appointment_id,
        appointments.contact_id,
        appointments.match_rule,
        -- Acuity marks a no-show through its cancel call (canceled and noShow both true); older data and some
        -- accounts have noShow alone. Either way it is a no-show, never also a cancellation.
        case
            when appointments.is_removed then 'removed'
            when appointments.is_no_show then 'no_show'
            when appointments.is_canceled then 'canceled'
            else 'scheduled'
        end as status,
        coalesce(appointments.starts_at_utc >= runs.as_of, false) as is_future,
        appointments.starts_at_local,
        appointments.starts_at_utc,
        appointments.calendar_timezone as timezone,
        appointments.utc_offset_minutes,
        appointments.duration_minutes,
        appointments.appointment_type_id,
        appointments.appointment_type,
        appointments.category,
        appointments.calendar_id,
        appointments.calendar,
        appointments.price,
        appointments.price_sold,
        -- two amounts decimal(14, 2) holds can be apart by more than it holds: such a discount is unknown
        case
            when abs(appointments.price - appointments.price_sold) < 1000000000000
                then cast(appointments.price - appointments.price_sold as decimal(14, 2))
        end as discount,
        appointments.amount_paid,
        appointments.is_paid,
        appointments.certificate_code,
        products_by_code.product as certificate_product,
        addons_per_appointment.addon_names,
        cast(addons_per_appointment.addon_price as decimal(14, 2)) as addon_price,
        appointments.class_id,
        appointments.location,
        appointments.scheduled_by,
        appointments.first_name,
        appointments.last_name,
        appointments.email_normalised as email,
        appointments.phone_normalised as phone,
        appointments.created_at_utc,
        appointments.is_canceled,
        appointments.is_no_show,
        appointments.is_removed,
        cast(appointments.removed_at as timestamp) as removed_at,
        appointments.version_count,
        runs.as_of
    from appointments
    inner join runs
        on runs.tenant_id = appointments.tenant_id
    left join addons_per_appointment
        on addons_per_appointment.tenant_id = appointments.tenant_id
        and addons_per_appointment.appointment_id = appointments.appointment_id
    left join products_by_code
        on products_by_code.tenant_id = appointments.tenant_id
        and products_by_code.code = upper(appointments.certificate_code)

)

select * from final
