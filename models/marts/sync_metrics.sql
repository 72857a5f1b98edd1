-- Each tenant's latest run from sync_runs: the job result the summary prints after a run.
with

runs as (

    select * from {{ ref('sync_runs') }}
    where is_latest

)

select * from runs
