-- One row per add-on on an appointment's current version (Acuity's addonIDs). An id that is no integer cannot be
-- keyed and is left out, and an id listed twice counts once: the extractor flags both in rejected_records
-- (invalid_addonIDs, duplicate_addonIDs).
with

source as (

    select * from {{ source('acuity', 'appointments') }}

),

latest as (

    {{ latest_version("source", "id") }}

),

elements as (

    select
        latest.tenant_id,
        cast(latest.id as bigint) as appointment_id,
        {{ json_array_items('latest.addon_i_ds') }} as addon
    from latest

),

ids as (

    select distinct
        tenant_id,
        appointment_id,
        {{ try_cast_or_null(json_scalar_text('addon'), 'bigint', '^-?[0-9]{1,18}$') }} as addon_id
    from elements

),

final as (

    select tenant_id, appointment_id, addon_id
    from ids
    where addon_id is not null

)

select * from final
