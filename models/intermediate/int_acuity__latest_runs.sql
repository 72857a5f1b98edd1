-- The run each tenant's marts describe: its latest successful sync, every column of its run row. var('as_of') pins
-- "now" for every tenant (when dbt runs alone, for reproducible marts).
{%- set runs_relation = ref('stg_acuity__sync_runs') %}
{%- set as_of = "cast('" ~ var('as_of') ~ "' as timestamp)" if var('as_of') else 'as_of' %}
with

runs as (

    select * from {{ runs_relation }}
    where status = 'success'

),

ranked as (

    select
        *,
        row_number() over (partition by tenant_id order by finished_at desc, run_id desc) as run_rank
    from runs

),

final as (

    select {{ columns_of(runs_relation, overrides={'as_of': as_of}) }}
    from ranked
    where run_rank = 1

)

select * from final
