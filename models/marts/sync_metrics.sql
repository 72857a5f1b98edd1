{{
    config(
        materialized='incremental',
        unique_key=['tenant_id', 'run_id'],
        on_schema_change='append_new_columns'
    )
}}
-- One row per tenant per successful sync, the seed importer's job result with the same meanings. Every appointment
-- the run read lands in exactly one bucket: attempted, or skipped as historical, canceled, unmatched, missing time
-- or invalid record (the last two were quarantined by the extractor and counted in its run row).
-- The row is written when its run is the latest; earlier runs' rows stay as they were measured.
with

runs as (

    select * from {{ ref('int_acuity__latest_runs') }}

),

appointments as (

    select * from {{ ref('int_acuity__appointments_matched') }}
    where not is_removed

),

future_appointments as (

    select * from {{ ref('future_appointments') }}

),

clients as (

    select * from {{ ref('stg_acuity__clients') }}

),

revenue as (

    select * from {{ ref('contact_revenue') }}

),

-- the run re-read (and so is authoritative for) appointments whose local date lies in its window
bucketed as (

    select
        appointments.tenant_id,
        case
            when appointments.starts_at_utc is null then 'missing_time'
            when appointments.starts_at_utc < runs.as_of then 'historical'
            when appointments.is_canceled then 'canceled'
            when appointments.match_rule = 'unmatched' then 'unmatched'
            else 'attempted'
        end as bucket
    from appointments
    inner join runs
        on runs.tenant_id = appointments.tenant_id
    where substr(appointments.starts_at_raw, 1, 10) >= cast(runs.window_first as {{ dbt.type_string() }})
        and substr(appointments.starts_at_raw, 1, 10) <= cast(runs.window_last as {{ dbt.type_string() }})

),

buckets as (

    select
        tenant_id,
        {% for bucket in ['attempted', 'historical', 'canceled', 'unmatched', 'missing_time'] -%}
        cast(sum(case when bucket = '{{ bucket }}' then 1 else 0 end) as bigint) as {{ bucket }}{{ "," if not loop.last }}
        {% endfor %}
    from bucketed
    group by tenant_id

),

persisted as (

    select
        tenant_id,
        cast(sum(case when match_rule <> 'unmatched' then 1 else 0 end) as bigint) as persisted,
        count(*) as future_active
    from future_appointments
    group by tenant_id

),

contacts as (

    select tenant_id, count(*) as contacts_processed
    from clients
    group by tenant_id

),

revenue_totals as (

    select
        tenant_id,
        cast(sum(case when not is_unmatched_bucket and order_revenue > 0 then 1 else 0 end) as bigint)
            as contacts_with_revenue,
        sum(order_revenue) as total_revenue,
        sum(case when is_unmatched_bucket then order_revenue else 0 end) as unmatched_revenue
    from revenue
    group by tenant_id

),

metrics as (

    select
        runs.tenant_id,
        runs.run_id,
        runs.as_of,
        runs.fetched_appointments as fetched,
        coalesce(buckets.attempted, 0) as appointments_attempted,
        coalesce(persisted.persisted, 0) as appointments_persisted,
        coalesce(buckets.historical, 0) as appointments_skipped_historical,
        coalesce(buckets.canceled, 0) as appointments_skipped_canceled,
        coalesce(buckets.unmatched, 0) as appointments_skipped_unmatched,
        coalesce(buckets.missing_time, 0) + runs.appointments_rejected_time as appointments_skipped_missing_time,
        runs.appointments_rejected_invalid as appointments_skipped_invalid_record,
        coalesce(buckets.attempted, 0) - coalesce(persisted.persisted, 0) as appointments_skipped_write_failures,
        coalesce(persisted.future_active, 0) as future_appointments,
        coalesce(contacts.contacts_processed, 0) as contacts_processed,
        coalesce(revenue_totals.contacts_with_revenue, 0) as contacts_with_revenue,
        runs.records_skipped,
        runs.records_flagged,
        cast(coalesce(revenue_totals.total_revenue, 0) as decimal(14, 2)) as total_revenue,
        cast(coalesce(revenue_totals.unmatched_revenue, 0) as decimal(14, 2)) as unmatched_revenue,
        runs.http_requests,
        runs.http_2xx,
        runs.http_429,
        runs.http_4xx_other,
        runs.http_5xx,
        runs.clients_status,
        runs.appointments_status,
        runs.orders_status,
        cast(runs.duration_seconds as decimal(12, 3)) as duration_seconds
    from runs
    left join buckets on buckets.tenant_id = runs.tenant_id
    left join persisted on persisted.tenant_id = runs.tenant_id
    left join contacts on contacts.tenant_id = runs.tenant_id
    left join revenue_totals on revenue_totals.tenant_id = runs.tenant_id

),

final as (

    select
        *,
        appointments_skipped_historical
            + appointments_skipped_canceled
            + appointments_skipped_unmatched
            + appointments_skipped_missing_time
            + appointments_skipped_invalid_record
            + appointments_skipped_write_failures as appointments_skipped_total
    from metrics

)

select * from final
