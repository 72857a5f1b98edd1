-- The latest version of every add-on (GET /appointment-addons), one row per (tenant_id, addon_id); one Acuity no
-- longer lists keeps its last name and price, flagged removed, so old appointments still name it.
with

source as (

    select * from {{ source('acuity', 'addons') }}

),

latest as (

    {{ latest_version("source", "id") }}

),

renamed as (

    select
        tenant_id,
        cast(id as bigint) as addon_id,
        name as addon_name,
        {{ acuity_money('price') }} as addon_price,
        cast(duration as integer) as addon_duration_minutes,
        coalesce(private, false) as is_private,
        _dlt_valid_to is not null as is_removed
    from latest

)

select * from renamed
