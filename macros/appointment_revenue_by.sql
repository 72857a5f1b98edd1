{#- The held appointments' list price, price sold and discount, and the appointment payments, per tenant and per
    `column` of marts.appointments (calendar, appointment_type): what analyses/revenue_by_*.sql describe. -#}
{% macro appointment_revenue_by(column) %}
with

appointments as (

    select * from {{ ref('appointments') }}
    where status <> 'removed'

),

grouped as (

    select
        tenant_id,
        {{ column }},
        count(*) as appointments,
        sum(case when status in ('scheduled', 'no_show') then 1 else 0 end) as held,
        sum(case when status in ('scheduled', 'no_show') then price else 0 end) as list_price,
        sum(case when status in ('scheduled', 'no_show') then price_sold else 0 end) as price_sold,
        sum(case when status in ('scheduled', 'no_show') then discount else 0 end) as discount,
        sum(coalesce(amount_paid, 0)) as appointment_payments
    from appointments
    group by tenant_id, {{ column }}

),

final as (

    select
        tenant_id,
        {{ column }},
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
order by tenant_id, appointment_payments desc, {{ column }}
{% endmacro %}
