-- The run each tenant's marts describe: its latest successful sync. var('as_of') pins "now" for every tenant.
with

runs as (

    select * from {{ ref('stg_acuity__sync_runs') }}
    where status = 'success'

),

ranked as (

    select
        *,
        row_number() over (partition by tenant_id order by finished_at desc, run_id desc) as run_rank
    from runs

),

final as (

    select
        tenant_id,
        run_id,
        {% if var('as_of') -%}
        cast('{{ var("as_of") }}' as timestamp) as as_of,
        {%- else -%}
        as_of,
        {%- endif %}
        window_first,
        window_last,
        fetched_appointments,
        fetched_clients,
        fetched_orders,
        appointments_rejected_time,
        appointments_rejected_invalid,
        records_skipped,
        records_flagged,
        duration_seconds,
        http_requests,
        http_2xx,
        http_429,
        http_4xx_other,
        http_5xx,
        clients_status,
        appointments_status,
        orders_status
    from ranked
    where run_rank = 1

)

select * from final
