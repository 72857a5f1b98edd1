-- Every version of every order dlt's scd2 history holds, one row per version: what each load saw (last_run_changes
-- compares a run's versions with the ones they replaced, to find the orders that were paid).
with

statuses as (

    select lower(trim(status)) as revenue_status, counts_as_revenue
    from {{ ref('order_statuses') }}

),

source as (

    select * from {{ source('acuity', 'orders') }}

),

renamed as (

    select
        source.tenant_id,
        cast(source.id as bigint) as order_id,
        lower(trim(source.status)) as order_status,
        coalesce(statuses.counts_as_revenue, false) as is_revenue,
        {{ acuity_money('source.total') }} as order_total,
        {{ try_cast_or_null("substr(trim(source.time) || ':00', 1, 19)", 'timestamp',
                     '^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$') }} as ordered_at_local,
        source.first_name,
        source.last_name,
        source._dlt_valid_from as version_valid_from,
        source._dlt_valid_to as version_valid_to,
        source._dlt_load_id as load_id
    from source
    left join statuses
        on statuses.revenue_status = lower(trim(source.status))
    where source.id is not null

)

select * from renamed
