{#- The run row as extract/pipeline.py writes it (SYNC_RUN_COLUMNS, its one definition): every column passes through;
    only instants become timestamps without zone (dlt loads them as timestamptz) and counters added in later versions
    read 0 on older rows. -#}
{%- set raw = source('acuity', 'sync_runs') -%}
{%- set overrides = {} -%}
{%- for column in ['as_of', 'started_at', 'finished_at'] -%}
    {%- do overrides.update({column: 'cast(' ~ column ~ ' as timestamp)'}) -%}
{%- endfor -%}
{%- for column in ['window_first', 'window_last'] -%}
    {%- do overrides.update({column: 'cast(' ~ column ~ ' as date)'}) -%}
{%- endfor -%}
{%- for column in ['appointments_rejected_time', 'appointments_rejected_invalid', 'records_skipped',
                   'records_flagged', 'records_deduplicated', 'appointments_edge_overlap'] -%}
    {%- do overrides.update({column: 'coalesce(' ~ column ~ ', 0)'}) -%}
{%- endfor -%}
with

source as (

    select * from {{ raw }}

),

-- a run id recorded twice (never by the pipeline; by hand, or a restored backup) keeps its last row
ranked as (

    select
        *,
        row_number() over (partition by tenant_id, run_id order by finished_at desc, _dlt_load_id desc) as row_rank
    from source

),

renamed as (

    select
        {{ columns_of(raw, overrides=overrides, except=['_dlt_load_id', '_dlt_id']) }}
    from ranked
    where row_rank = 1

)

select * from renamed
