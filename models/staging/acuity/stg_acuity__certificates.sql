{#- The JSON column holds the per-type object; dlt loads a plain integer into the variant column
    remaining_counts__v_bigint, which exists once such a value arrived. -#}
{%- set uses_as_integer = [] -%}
{%- if execute -%}
    {%- for column in adapter.get_columns_in_relation(source('acuity', 'certificates')) -%}
        {%- if column.name.lower() == 'remaining_counts__v_bigint' -%}
            {%- do uses_as_integer.append(adapter.quote(column.name)) -%}
        {%- endif -%}
    {%- endfor -%}
{%- endif %}
-- The latest version of every package, gift-certificate and subscription code (GET /certificates), one row per
-- (tenant_id, certificate_id); one Acuity no longer lists stays, flagged removed. Uses left arrive as one integer (the
-- community OpenAPI's type) or per appointment type (what integrations read from real answers): both read as their
-- sum; anything else is null, and the extractor flags it (invalid_counts_remainingCounts).
with

source as (

    select * from {{ source('acuity', 'certificates') }}

),

latest as (

    {{ latest_version("source", "id") }}

),

count_keys as (

    select
        tenant_id,
        id,
        remaining_counts,
        {{ json_object_keys('remaining_counts') }} as type_key
    from latest

),

uses_per_type as (

    select
        tenant_id,
        id,
        sum({{ try_cast_or_null('remaining_counts ->> type_key', 'bigint', '^-?[0-9]{1,18}$') }}) as uses_left
    from count_keys
    group by tenant_id, id

),

renamed as (

    select
        latest.tenant_id,
        cast(latest.id as bigint) as certificate_id,
        nullif(trim(latest.certificate), '') as certificate_code,
        latest.product_id,
        latest.order_id,
        latest.name as product,
        latest.type as certificate_type,
        latest.email as email_raw,
        {{ normalise_email('latest.email') }} as email_normalised,
        coalesce(
            {% for column in uses_as_integer %}latest.{{ column }}, {% endfor %}uses_per_type.uses_left
        ) as remaining_uses,
        latest.remaining_minutes,
        {{ acuity_money('latest.remaining_value') }} as remaining_value,
        {{ acuity_date('latest.expiration') }} as expires_on,
        latest._dlt_valid_to is not null as is_removed
    from latest
    left join uses_per_type
        on uses_per_type.tenant_id = latest.tenant_id
        and uses_per_type.id = latest.id

)

select * from renamed
