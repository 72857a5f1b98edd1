{{
    config(
        materialized='incremental',
        unique_key=['tenant_id', 'run_id'],
        on_schema_change='append_new_columns',
        pre_hook="{{ sync_runs_metrics_nullable() }}"
    )
}}
-- One row per tenant per run: each successful sync's job result, the seed importer's metrics with the same meanings,
-- measured when the run was its tenant's latest and kept as measured; and each run that failed or was interrupted
-- (status, stage, one-line error; no metrics), so "what went wrong yesterday" is answered where analysts look.
-- is_latest marks each tenant's latest successful run: the invariant tests judge only those rows, so an old row (a run
-- killed mid-load, an unusual setting, a failure) never blocks a later build.
with

runs as (

    select * from {{ ref('int_acuity__latest_runs') }}

),

buckets as (

    select * from {{ ref('int_acuity__run_buckets') }}

),

future_appointments as (

    select * from {{ ref('future_appointments') }}

),

clients as (

    select * from {{ ref('stg_acuity__clients') }}

),

contacts as (

    select * from {{ ref('contacts') }}

),

revenue as (

    select * from {{ ref('revenue_reconciliation') }}

),

-- what landed in future_appointments within the window the run read
persisted as (

    select
        runs.tenant_id,
        cast(sum(case when future_appointments.match_rule <> 'unmatched' then 1 else 0 end) as bigint) as persisted,
        cast(count(*) as bigint) as future_active
    from future_appointments
    inner join runs
        on runs.tenant_id = future_appointments.tenant_id
    where cast(future_appointments.starts_at_local as date) >= runs.window_first
        and cast(future_appointments.starts_at_local as date) <= runs.window_last
    group by runs.tenant_id

),

client_records as (

    select tenant_id, count(*) as contacts_processed
    from clients
    group by tenant_id

),

people as (

    select tenant_id, count(*) as contacts
    from contacts
    group by tenant_id

),

revenue_totals as (

    select tenant_id, contacts_with_revenue, total_revenue, unmatched_revenue
    from revenue

),

metrics as (

    select
        runs.tenant_id,
        runs.run_id,
        runs.as_of,
        runs.window_first,
        runs.window_last,
        runs.fetched_appointments as fetched,
        buckets.attempted as appointments_attempted,
        coalesce(persisted.persisted, 0) as appointments_persisted,
        buckets.historical as appointments_skipped_historical,
        buckets.canceled as appointments_skipped_canceled,
        buckets.unmatched as appointments_skipped_unmatched,
        buckets.missing_time + runs.appointments_rejected_time as appointments_skipped_missing_time,
        runs.appointments_rejected_invalid as appointments_skipped_invalid_record,
        buckets.attempted - coalesce(persisted.persisted, 0) as appointments_skipped_write_failures,
        coalesce(persisted.future_active, 0) as future_appointments,
        coalesce(client_records.contacts_processed, 0) as contacts_processed,
        coalesce(people.contacts, 0) as contacts,
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
    inner join buckets on buckets.tenant_id = runs.tenant_id
    left join persisted on persisted.tenant_id = runs.tenant_id
    left join client_records on client_records.tenant_id = runs.tenant_id
    left join people on people.tenant_id = runs.tenant_id
    left join revenue_totals on revenue_totals.tenant_id = runs.tenant_id

),

measured as (

    select
        metrics.*,
        appointments_skipped_historical
            + appointments_skipped_canceled
            + appointments_skipped_unmatched
            + appointments_skipped_missing_time
            + appointments_skipped_invalid_record
            + appointments_skipped_write_failures as appointments_skipped_total,
        true as is_latest,
        -- last: a warehouse built before these columns existed appends them at the end
        {%- for name in ['first', 'last', 'status', 'requests', 'added', 'changed', 'retired'] %}
        runs.reconcile_{{ name }},
        {%- endfor %}
        runs.status,
        runs.stage,
        runs.error,
        runs.started_at,
        runs.finished_at,
        -- appointments the window held that the run's reads did not return and that it kept as last seen
        -- (extract/absence.py): still in the buckets, though not fetched
        coalesce(runs.appointments_held, 0) as appointments_held
    from metrics
    inner join runs on runs.tenant_id = metrics.tenant_id

),

-- runs that did not succeed: what the run row says, no metrics (nothing of theirs reached the marts)
not_successful as (

    select
        tenant_id,
        run_id,
        as_of,
        window_first,
        window_last,
        {%- for name in ['fetched', 'appointments_attempted', 'appointments_persisted', 'appointments_skipped_historical',
                         'appointments_skipped_canceled', 'appointments_skipped_unmatched',
                         'appointments_skipped_missing_time', 'appointments_skipped_invalid_record',
                         'appointments_skipped_write_failures', 'future_appointments', 'contacts_processed', 'contacts',
                         'contacts_with_revenue', 'records_skipped', 'records_flagged'] %}
        cast(null as bigint) as {{ name }},
        {%- endfor %}
        cast(null as decimal(14, 2)) as total_revenue,
        cast(null as decimal(14, 2)) as unmatched_revenue,
        http_requests,
        http_2xx,
        http_429,
        http_4xx_other,
        http_5xx,
        clients_status,
        appointments_status,
        orders_status,
        cast(duration_seconds as decimal(12, 3)) as duration_seconds,
        cast(null as bigint) as appointments_skipped_total,
        false as is_latest,
        {%- for name in ['first', 'last', 'status', 'requests', 'added', 'changed', 'retired'] %}
        reconcile_{{ name }},
        {%- endfor %}
        status,
        stage,
        error,
        started_at,
        finished_at,
        appointments_held
    from {{ ref('stg_acuity__sync_runs') }}
    where status <> 'success'

)

select * from measured

union all

select * from not_successful
{%- if is_incremental() %}

-- the rows that were their tenant's latest until this build: kept as measured, no longer latest
union all

select {{ columns_of(this, overrides={'is_latest': 'false'}) }}
from {{ this }} as previous
where previous.is_latest
    and exists (
        select 1 from measured
        where measured.tenant_id = previous.tenant_id
            and measured.run_id <> previous.run_id
    )
{%- endif %}
