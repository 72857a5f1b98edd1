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
        {{ json_array_items('latest.forms') }} as form
    from latest

),

fields as (

    select
        forms.tenant_id,
        forms.appointment_id,
        forms.form,
        {{ json_array_items("forms.form -> 'values'") }} as field
    from forms

),

answers as (

    select
        tenant_id,
        appointment_id,
        cast(form ->> 'id' as bigint) as form_id,
        form ->> 'name' as form_name,
        cast(field ->> 'fieldID' as bigint) as field_id,
        field ->> 'name' as field_name,
        field ->> 'value' as answer
    from fields

)

select * from answers
