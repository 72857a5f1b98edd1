with

source as (

    select * from {{ source('acuity', 'appointment_types') }}
    where _dlt_valid_to is null

),

renamed as (

    select
        tenant_id,
        cast(id as bigint) as appointment_type_id,
        name as appointment_type,
        category,
        cast(duration as integer) as duration_minutes,
        {{ acuity_money('price') }} as price,
        coalesce(active, true) as is_active
    from source

)

select * from renamed
