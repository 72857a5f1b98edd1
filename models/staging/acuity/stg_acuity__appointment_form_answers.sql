-- One row per appointment and intake-form field the appointment's current version carries (Acuity's
-- forms[].values[]), e.g. "How did you hear about us?" = "Google". Empty answers are kept (an unanswered field), as
-- are forms and fields with empty names. A form or field without an integer id cannot be keyed and is left out, and
-- a field answered twice in one form keeps one answer: the extractor flags both in rejected_records (invalid_forms,
-- duplicate_form_field), with the appointment as Acuity sent it.
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
        {{ try_cast_or_null("form ->> 'id'", 'bigint', '^-?[0-9]{1,18}$') }} as form_id,
        coalesce(form ->> 'name', '') as form_name,
        {{ try_cast_or_null("field ->> 'fieldID'", 'bigint', '^-?[0-9]{1,18}$') }} as field_id,
        coalesce(field ->> 'name', '') as field_name,
        field ->> 'value' as answer
    from fields

),

keyed as (

    select
        *,
        row_number() over (
            partition by tenant_id, appointment_id, form_id, field_id
            order by field_name, answer
        ) as answer_rank
    from answers
    where form_id is not null
        and field_id is not null

),

final as (

    select tenant_id, appointment_id, form_id, form_name, field_id, field_name, answer
    from keyed
    where answer_rank = 1

)

select * from final
