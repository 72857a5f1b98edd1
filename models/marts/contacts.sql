-- One row per person: Acuity client records merged by email (or phone), with their lifetime facts.
with

resolved as (

    select * from {{ ref('int_acuity__clients_resolved') }}

),

-- the record that names the contact: the most complete one (email, then phone), ties broken by record id
ranked as (

    select
        *,
        row_number() over (
            partition by tenant_id, contact_id
            order by
                case when email_normalised is null then 1 else 0 end,
                case when phone_normalised is null then 1 else 0 end,
                client_record_id
        ) as record_rank
    from resolved

),

merges as (

    select
        tenant_id,
        contact_id,
        count(*) as client_records,
        sum(case when merge_rule = 'phone' and email_normalised is null then 1 else 0 end) as records_merged_by_phone,
        sum(case when merge_rule = 'manual' or has_ignored then 1 else 0 end) as manual_records,
        min(contact_key) as contact_key
    from resolved
    group by tenant_id, contact_id

),

appointments as (

    select * from {{ ref('appointments') }}
    where contact_id is not null
        and not is_removed

),

orders as (

    select * from {{ ref('orders') }}
    where contact_id is not null
        and counts_as_revenue

),

appointment_facts as (

    select
        tenant_id,
        contact_id,
        count(*) as appointments,
        sum(case when status = 'canceled' then 1 else 0 end) as cancellations,
        sum(case when status = 'no_show' then 1 else 0 end) as no_shows,
        min(case when status = 'scheduled' then starts_at_local end) as first_appointment_at,
        max(case when status = 'scheduled' and not is_future then starts_at_local end) as last_appointment_at,
        min(case when status = 'scheduled' and is_future then starts_at_local end) as next_appointment_at,
        sum(coalesce(amount_paid, 0)) as appointment_payments
    from appointments
    group by tenant_id, contact_id

),

order_facts as (

    select
        tenant_id,
        contact_id,
        count(*) as revenue_orders,
        sum(order_total) as order_revenue,
        min(ordered_at_local) as first_order_at,
        max(ordered_at_local) as last_order_at
    from orders
    group by tenant_id, contact_id

),

final as (

    select
        ranked.tenant_id,
        ranked.contact_id,
        ranked.first_name,
        ranked.last_name,
        ranked.email_normalised as email,
        ranked.phone_normalised as phone,
        merges.client_records,
        case
            when merges.manual_records > 0 then 'manual'
            when merges.client_records = 1 then 'single'
            when merges.records_merged_by_phone > 0 and merges.contact_key like 'email:%' then 'email+phone'
            when merges.contact_key like 'email:%' then 'email'
            else 'phone'
        end as merge_rule,
        merges.contact_key as merge_identifier,
        cast(coalesce(appointment_facts.appointments, 0) as bigint) as appointments,
        cast(coalesce(appointment_facts.cancellations, 0) as bigint) as cancellations,
        cast(coalesce(appointment_facts.no_shows, 0) as bigint) as no_shows,
        appointment_facts.first_appointment_at,
        appointment_facts.last_appointment_at,
        appointment_facts.next_appointment_at,
        cast(coalesce(order_facts.revenue_orders, 0) as bigint) as revenue_orders,
        cast(coalesce(order_facts.order_revenue, 0) as decimal(14, 2)) as order_revenue,
        order_facts.first_order_at,
        order_facts.last_order_at,
        cast(coalesce(appointment_facts.appointment_payments, 0) as decimal(14, 2)) as appointment_payments,
        cast(
            coalesce(order_facts.order_revenue, 0) + coalesce(appointment_facts.appointment_payments, 0)
            as decimal(14, 2)
        ) as total_collected
    from ranked
    inner join merges
        on merges.tenant_id = ranked.tenant_id
        and merges.contact_id = ranked.contact_id
    left join appointment_facts
        on appointment_facts.tenant_id = ranked.tenant_id
        and appointment_facts.contact_id = ranked.contact_id
    left join order_facts
        on order_facts.tenant_id = ranked.tenant_id
        and order_facts.contact_id = ranked.contact_id
    where ranked.record_rank = 1

)

select * from final
