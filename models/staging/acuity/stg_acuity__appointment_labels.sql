-- One row per label on an appointment's current version (Acuity's labels[]: id, name, color). A label without an
-- integer id cannot be keyed and is left out, and a label listed twice counts once: the extractor flags both in
-- rejected_records (invalid_labels, duplicate_label).
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
        {{ try_cast_or_null("label ->> 'id'", 'bigint', '^-?[0-9]{1,18}$') }} as label_id,
        coalesce(label ->> 'name', '') as label_name,
        label ->> 'color' as label_color
    from elements

),

keyed as (

    select
        *,
        row_number() over (partition by tenant_id, appointment_id, label_id order by label_name, label_color) as label_rank
    from labels
    where label_id is not null

),

final as (

    select tenant_id, appointment_id, label_id, label_name, label_color
    from keyed
    where label_rank = 1

)

select * from final
