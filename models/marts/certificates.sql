-- Package, gift-certificate and subscription codes (GET /certificates), one row per code: the order that sold it (its
-- money is order revenue), who bought it, what is left on it, and the appointments booked with it. An appointment
-- booked with a code owes only what the code does not cover, so paid_on_appointments is what clients paid on top (an
-- add-on, the balance of a gift certificate), never the code's value a second time.
with

certificates as (

    select * from {{ ref('stg_acuity__certificates') }}

),

orders as (

    select * from {{ ref('orders') }}

),

appointments as (

    select * from {{ ref('appointments') }}
    where status in ('scheduled', 'no_show')
        and certificate_code is not null

),

runs as (

    select * from {{ ref('int_acuity__latest_runs') }}

),

redeemed as (

    select
        tenant_id,
        upper(certificate_code) as code,
        count(*) as appointments,
        sum(price) as list_price,
        sum(amount_paid) as paid_on_appointments,
        min(starts_at_local) as first_appointment_at,
        max(starts_at_local) as last_appointment_at
    from appointments
    group by tenant_id, upper(certificate_code)

),

final as (

    select
        certificates.tenant_id,
        certificates.certificate_id,
        certificates.certificate_code,
        certificates.product,
        certificates.product_id,
        certificates.certificate_type,
        certificates.order_id,
        orders.order_total,
        orders.counts_as_revenue as order_counts_as_revenue,
        orders.contact_id,
        certificates.email_normalised as email,
        certificates.remaining_uses,
        certificates.remaining_minutes,
        certificates.remaining_value,
        certificates.expires_on,
        coalesce(certificates.expires_on < cast(runs.as_of as date), false) as is_expired,
        cast(coalesce(redeemed.appointments, 0) as bigint) as appointments_booked,
        cast(coalesce(redeemed.list_price, 0) as decimal(14, 2)) as appointments_list_price,
        cast(coalesce(redeemed.paid_on_appointments, 0) as decimal(14, 2)) as paid_on_appointments,
        redeemed.first_appointment_at,
        redeemed.last_appointment_at,
        certificates.is_removed
    from certificates
    inner join runs
        on runs.tenant_id = certificates.tenant_id
    left join orders
        on orders.tenant_id = certificates.tenant_id
        and orders.order_id = certificates.order_id
    left join redeemed
        on redeemed.tenant_id = certificates.tenant_id
        and redeemed.code = upper(certificates.certificate_code)

)

select * from final
