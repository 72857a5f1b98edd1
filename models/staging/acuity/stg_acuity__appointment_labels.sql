-- One row per label on an appointment's current version (Acuity's labels[]: id, name, color).
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
        {{ json_array_items('latest.labels') }} as label
    from latest

),

labels as (

    select
        tenant_id,
        appointment_id,
        cast(label ->> 'id' as bigint) as label_id,
        label ->> 'name' as label_name,
        label ->> 'color' as label_color
    from elements

)

select * from labels
