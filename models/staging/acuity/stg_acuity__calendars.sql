with

source as (

    select * from {{ source('acuity', 'calendars') }}
    where _dlt_valid_to is null

),

renamed as (

    select
        tenant_id,
        cast(id as bigint) as calendar_id,
        name as calendar,
        timezone,
        location
    from source

)

select * from renamed
