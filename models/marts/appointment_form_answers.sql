-- Intake-form answers, one row per appointment and form field, with when and where the appointment is and who booked
-- it: "how did you hear about us?" per month, answers per calendar, a contact's answers over time.
with

answers as (

    select * from {{ ref('stg_acuity__appointment_form_answers') }}

),

appointments as (

    select * from {{ ref('appointments') }}

),

final as (

    select
        answers.tenant_id,
        answers.appointment_id,
        answers.form_id,
        answers.form_name,
        answers.field_id,
        answers.field_name,
        answers.answer,
        appointments.starts_at_local,
        appointments.status,
        appointments.calendar,
        appointments.appointment_type,
        appointments.contact_id
    from answers
    inner join appointments
        on appointments.tenant_id = answers.tenant_id
        and appointments.appointment_id = answers.appointment_id

)

select * from final
