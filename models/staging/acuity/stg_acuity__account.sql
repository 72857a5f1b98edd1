with

source as (

    select * from {{ source('acuity', 'account') }}
    where _dlt_valid_to is null

),

renamed as (

    select
        tenant_id,
        cast(id as bigint) as acuity_user_id,
        name as account_name,
        timezone,
        currency
    from source

)

select * from renamed
