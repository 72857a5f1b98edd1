-- One row per appointment and intake-form field the appointment's current version carries (Acuity's
-- forms[].values[]), e.g. "How did you hear about us?" = "Google". Empty answers are kept (an unanswered field).
with

source as (

    select * from {{ source('acuity', 'appointments') }}

),

latest as (

    {{ latest_version("source", "id") }}

),

forms as (

    select
        latest.tenant_id,
        cast(latest.id as bigint) as appointment_id,
        form.value as form
    from latest
    {{ json_elements('latest.forms', 'form') }}

),

answers as (

    select
        forms.tenant_id,
        forms.appointment_id,
        cast(forms.form ->> 'id' as bigint) as form_id,
        forms.form ->> 'name' as form_name,
        cast(answer.value ->> 'fieldID' as bigint) as field_id,
        answer.value ->> 'name' as field_name,
        answer.value ->> 'value' as answer
    from forms
    {{ json_elements("forms.form -> 'values'", 'answer') }}

)

select * from answers
