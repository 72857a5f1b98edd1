-- What each tenant's latest successful run changed: one row per appointment or order whose version that run wrote or
-- retired, with the kind of change. Read from raw's scd2 history through staging: the versions the run's load wrote
-- against the versions they replaced. A tenant's first run has no rows: nothing came before it.
with

runs as (

    select * from {{ ref('int_acuity__latest_runs') }}

),

successes as (

    select
        tenant_id,
        as_of,
        row_number() over (partition by tenant_id order by finished_at desc, run_id desc) as run_rank
    from {{ ref('stg_acuity__sync_runs') }}
    where status = 'success'

),

previous_runs as (

    select tenant_id, as_of as previous_as_of
    from successes
    where run_rank = 2

),

{% for entity in ['appointment', 'order'] %}
{{ entity }}_versions as (

    select * from {{ ref('stg_acuity__' ~ entity ~ '_versions') }}

),

-- the latest run's versions, and the ones it replaced or retired: those ended the instant its versions began
{{ entity }}_written as (

    select versions.*
    from {{ entity }}_versions as versions
    inner join runs
        on runs.tenant_id = versions.tenant_id
        and runs.load_id = versions.load_id

),

{{ entity }}_replaced as (

    select versions.*
    from {{ entity }}_versions as versions
    inner join (select distinct tenant_id, version_valid_from from {{ entity }}_written) as boundaries
        on boundaries.tenant_id = versions.tenant_id
        and boundaries.version_valid_from = versions.version_valid_to

),

{{ entity }}_paired as (

    select
        coalesce(written.tenant_id, replaced.tenant_id) as tenant_id,
        coalesce(written.{{ entity }}_id, replaced.{{ entity }}_id) as record_id,
        written.{{ entity }}_id is not null as is_written,
        replaced.{{ entity }}_id is not null as is_replaced,
        coalesce(written.first_name, replaced.first_name) as first_name,
        coalesce(written.last_name, replaced.last_name) as last_name,
        {%- if entity == 'appointment' %}
        coalesce(written.calendar, replaced.calendar) as calendar,
        coalesce(written.starts_at_local, replaced.starts_at_local) as happens_at_local,
        coalesce(written.starts_at_utc, replaced.starts_at_utc) as starts_at_utc,
        replaced.starts_at_local as previous_happens_at_local,
        written.starts_at_raw is distinct from replaced.starts_at_raw as is_moved,
        written.created_at_utc,
        written.amount_paid as amount,
        replaced.amount_paid as previous_amount,
        coalesce(written.is_paid, false) and not coalesce(replaced.is_paid, false)
            or coalesce(written.amount_paid, 0) > coalesce(replaced.amount_paid, 0) as is_payment,
        coalesce(written.is_canceled, false) and not coalesce(replaced.is_canceled, false) as is_cancellation,
        coalesce(written.is_no_show, false) and not coalesce(replaced.is_no_show, false) as is_no_show
        {%- else %}
        cast(null as {{ dbt.type_string() }}) as calendar,
        coalesce(written.ordered_at_local, replaced.ordered_at_local) as happens_at_local,
        cast(null as timestamp) as starts_at_utc,
        replaced.ordered_at_local as previous_happens_at_local,
        false as is_moved,
        cast(null as timestamp) as created_at_utc,
        written.order_total as amount,
        replaced.order_total as previous_amount,
        coalesce(written.is_revenue, false) and not coalesce(replaced.is_revenue, false) as is_payment,
        false as is_cancellation,
        false as is_no_show
        {%- endif %}
    from {{ entity }}_written as written
    full outer join {{ entity }}_replaced as replaced
        on replaced.tenant_id = written.tenant_id
        and replaced.{{ entity }}_id = written.{{ entity }}_id

),

{{ entity }}_changes as (

    select
        paired.tenant_id,
        runs.run_id,
        runs.as_of,
        '{{ entity }}' as record,
        paired.record_id,
        case
            when not paired.is_written then 'removed'
            when paired.is_no_show then 'no_show'
            when paired.is_cancellation then 'canceled'
            {%- if entity == 'appointment' %}
            when not paired.is_replaced
                and (paired.created_at_utc is null
                     or paired.created_at_utc >= previous_runs.previous_as_of - interval '1 day') then 'booked'
            when not paired.is_replaced then 'first_read'
            when paired.is_moved then 'rescheduled'
            when paired.is_payment then 'paid'
            {%- else %}
            when paired.is_payment then 'paid'
            when not paired.is_replaced then 'ordered'
            {%- endif %}
            else 'edited'
        end as change,
        paired.calendar,
        paired.first_name,
        paired.last_name,
        paired.happens_at_local,
        paired.previous_happens_at_local,
        paired.amount,
        paired.previous_amount,
        coalesce(paired.starts_at_utc >= runs.as_of, false) as is_future
    from {{ entity }}_paired as paired
    inner join runs on runs.tenant_id = paired.tenant_id
    inner join previous_runs on previous_runs.tenant_id = paired.tenant_id

),
{% endfor %}

final as (

    select * from appointment_changes
    union all
    select * from order_changes

)

select * from final
