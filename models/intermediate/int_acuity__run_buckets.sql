-- Each tenant's latest run, its appointments in buckets: every appointment the run read (its local date lies in the
-- run's window, so the run is authoritative for it) lands in exactly one of attempted, or skipped as historical,
-- canceled, unmatched or missing time. A no-show is canceled in Acuity's documented shape (canceled and noShow both
-- true); either shape counts once, by its canceled flag. Future matched appointments within the window are what the
-- run persisted: a run that read a shorter window (ACUITY_HORIZON_DAYS=30) is judged on that window only. The slice
-- of older history a run reconciled was read in full as well: its appointments are historical.
with

runs as (

    select * from {{ ref('int_acuity__latest_runs') }}

),

appointments as (

    select * from {{ ref('int_acuity__appointments_matched') }}
    where not is_removed

),

in_window as (

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
    where (
        substr(appointments.starts_at_raw, 1, 10) >= cast(runs.window_first as {{ dbt.type_string() }})
        and substr(appointments.starts_at_raw, 1, 10) <= cast(runs.window_last as {{ dbt.type_string() }})
    ) or (
        -- the slice of older history the run reconciled: read in full too
        runs.reconcile_status = 'done'
        and substr(appointments.starts_at_raw, 1, 10) >= cast(runs.reconcile_first as {{ dbt.type_string() }})
        and substr(appointments.starts_at_raw, 1, 10) <= cast(runs.reconcile_last as {{ dbt.type_string() }})
    )

),

final as (

    select
        runs.tenant_id,
        runs.run_id,
        {% for bucket in ['attempted', 'historical', 'canceled', 'unmatched', 'missing_time'] -%}
        cast(coalesce(sum(case when in_window.bucket = '{{ bucket }}' then 1 else 0 end), 0) as bigint) as {{ bucket }}{{ "," if not loop.last }}
        {% endfor %}
    from runs
    left join in_window
        on in_window.tenant_id = runs.tenant_id
    group by runs.tenant_id, runs.run_id

)

select * from final
