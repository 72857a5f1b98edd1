-- One row per label on an appointment's current version (Acuity's labels[]: id, name, color).
with

source as (

    select * from {{ source('acuity', 'appointments') }}

),

latest as (

    {{ latest_version("source", "id") }}

),

labels as (

    select
        latest.tenant_id,
        cast(latest.id as bigint) as appointment_id,
        cast(label.value ->> 'id' as bigint) as label_id,
        label.value ->> 'name' as label_name,
        label.value ->> 'color' as label_color
    from latest
    {{ json_elements('latest.labels', 'label') }}

)

select * from labels
