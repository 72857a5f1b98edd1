-- Labels on appointments (a bridge: one row per appointment and label), to filter or count appointments by label.
with

labels as (

    select * from {{ ref('stg_acuity__appointment_labels') }}

),

appointments as (

    select * from {{ ref('appointments') }}

),

final as (

    select
        labels.tenant_id,
        labels.appointment_id,
        labels.label_id,
        labels.label_name,
        labels.label_color,
        appointments.starts_at_local,
        appointments.status,
        appointments.contact_id
    from labels
    inner join appointments
        on appointments.tenant_id = labels.tenant_id
        and appointments.appointment_id = labels.appointment_id

)

select * from final
