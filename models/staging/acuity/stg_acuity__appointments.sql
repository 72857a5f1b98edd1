{#- A `canceled` that is not a boolean ("maybe", "") cannot land in the boolean column: dlt puts it in a variant
    column (canceled__v_text, canceled__v_double, ...) that exists only once such a value arrived, and the extractor
    flags the record (rejected_records, action kept). Such an appointment is not an active booking: it counts as
    canceled. An appointmentTypeID that is not an integer lands in appointment_type_id__v_* the same way: the id
    stays NULL here, and the flag says why. -#}
{%- set canceled_variants = [] -%}
{%- if execute -%}
    {%- for column in adapter.get_columns_in_relation(source('acuity', 'appointments')) -%}
        {%- if column.name.lower().startswith('canceled__v_') -%}
            {%- do canceled_variants.append(adapter.quote(column.name)) -%}
        {%- endif -%}
    {%- endfor -%}
{%- endif -%}
with

settings as (

    {{ tenant_settings() }}

),

source as (

    select * from {{ source('acuity', 'appointments') }}

),

latest as (

    {{ latest_version("source", "id") }}

),

renamed as (

    select
        tenant_id,
        cast(id as bigint) as appointment_id,
        {{ acuity_person_columns() }},
        cast(appointment_type_id as bigint) as appointment_type_id,
        type as appointment_type,
        category,
        cast(calendar_id as bigint) as calendar_id,
        calendar,
        calendar_timezone,
        timezone as client_timezone,
        "datetime" as starts_at_raw,
        {{ acuity_local_timestamp('"datetime"') }} as starts_at_local,
        {{ acuity_offset_minutes('"datetime"') }} as utc_offset_minutes,
        {{ acuity_utc_timestamp('"datetime"') }} as starts_at_utc,
        {{ acuity_utc_timestamp('datetime_created') }} as created_at_utc,
        {{ try_cast_or_null('duration', 'integer', '^[0-9]+$') }} as duration_minutes,
        {{ acuity_money('price') }} as price,
        {{ acuity_money('price_sold') }} as price_sold,
        {{ acuity_money('amount_paid') }} as amount_paid,
        lower(trim(paid)) = 'yes' as is_paid,
        coalesce(
            canceled,
            {% for variant in canceled_variants -%} {{ variant }} is not null or {% endfor -%} false
        ) as is_canceled,
        coalesce(no_show, false) as is_no_show,
        location,
        cast(class_id as {{ dbt.type_string() }}) as class_id,
        nullif(trim(certificate), '') as certificate_code,
        nullif(trim(scheduled_by), '') as scheduled_by,
        _dlt_valid_to is not null as is_removed,
        _dlt_valid_from as version_valid_from,
        _dlt_valid_to as removed_at,
        version_count,
        _dlt_load_id as load_id
    from latest
    left join settings using (tenant_id)

)

select * from renamed
