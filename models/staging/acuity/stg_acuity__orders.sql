with

settings as (

    {{ tenant_settings() }}

),

-- which statuses count as revenue: seeds/order_statuses.csv
statuses as (

    select lower(trim(status)) as revenue_status, counts_as_revenue
    from {{ ref('order_statuses') }}

),

source as (

    select * from {{ source('acuity', 'orders') }}

),

latest as (

    {{ latest_version("source", "id") }}

),

renamed as (

    select
        tenant_id,
        cast(id as bigint) as order_id,
        lower(trim(status)) as order_status,
        coalesce(statuses.counts_as_revenue, false) as is_revenue,
        {{ acuity_money('total') }} as order_total,
        -- order times carry no offset: wall-clock times in the account's time zone, "2026-11-24 10:15" (seconds are
        -- tolerated: the string is cut to 19 characters after ':00' is appended, then checked and cast)
        {{ try_cast_or_null("substr(trim(time) || ':00', 1, 19)", 'timestamp',
                     '^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$') }} as ordered_at_local,
        title,
        {{ acuity_person_columns() }},
        _dlt_valid_to is not null as is_removed,
        _dlt_valid_from as version_valid_from,
        _dlt_load_id as load_id
    from latest
    left join settings using (tenant_id)
    left join statuses
        on statuses.revenue_status = lower(trim(status))

)

select * from renamed
