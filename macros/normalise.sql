{#- Normalisation rules shared by every model that reads an email, a phone or an Acuity datetime. -#}

{#- Email: trimmed, lower-cased; empty means none. -#}
{% macro normalise_email(expr) -%}
    nullif(lower(trim({{ expr }})), '')
{%- endmacro %}

{#- Phone: digits in international form without '+'. Letters are read as on a phone keypad (1-800-FLOWERS is
    18003569377, so a vanity number never merges with another one); a value without any digit ("none", "n/a") or with
    fewer than 7 is none. A value written with '+' already carries its country code; a leading 00 is the
    international prefix and is dropped; a bare 10-digit number is national and gets the tenant's country code
    (`country_code`, an SQL expression: the tenant's row of seeds/tenant_settings.csv) or else
    var('default_phone_country_code'); anything else is kept as its digits. -#}
{% macro normalise_phone(expr, country_code=none) -%}
    {%- set digits = digits_only(keypad_digits(expr)) -%}
    case
        when not {{ regex_matches(expr, '.*[0-9].*') }} then null
        when {{ dbt.length(digits) }} < 7 then null
        when trim({{ expr }}) like '+%' then {{ digits }}
        when {{ digits }} like '00%' then substr({{ digits }}, 3)
        when {{ dbt.length(digits) }} = 10
            then {{ phone_country_code(country_code) }} || {{ digits }}
        else {{ digits }}
    end
{%- endmacro %}

{#- ASCII letters as on a phone keypad (ABC 2, DEF 3, ..., WXYZ 9), every other character kept. -#}
{% macro keypad_digits(expr) -%}
    translate({{ expr }}, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz',
        '2223334445556667777888999922233344455566677778889999')
{%- endmacro %}

{% macro phone_country_code(country_code=none) -%}
    {%- if country_code is none -%}'{{ var("default_phone_country_code") }}'
    {%- else -%}coalesce({{ digits_only(country_code) }}, '{{ var("default_phone_country_code") }}'){%- endif -%}
{%- endmacro %}

{#- The tenant settings a staging model needs, to join on tenant_id (seeds/tenant_settings.csv). -#}
{% macro tenant_settings() -%}
    select tenant_id, cast(default_phone_country_code as {{ dbt.type_string() }}) as phone_country_code
    from {{ ref('tenant_settings') }}
{%- endmacro %}

{#- An identifier an operator typed into a seed, in the form the models compare: emails normalised, phones as the
    tenant's phones are (`country_code` as for normalise_phone), names as "first last" lower-cased. -#}
{% macro normalise_identifier(type_expr, value_expr, country_code=none) -%}
    case
        when {{ type_expr }} = 'email' then {{ normalise_email(value_expr) }}
        when {{ type_expr }} = 'phone' then {{ normalise_phone(value_expr, country_code) }}
        else nullif(lower(trim({{ value_expr }})), '')
    end
{%- endmacro %}
{#- The name Acuity itself identifies a client by (with the phone): "first last", trimmed and lower-cased. -#}
{% macro normalise_name(first_name, last_name) -%}
    nullif(lower(trim(coalesce(trim({{ first_name }}), '') || ' ' || coalesce(trim({{ last_name }}), ''))), '')
{%- endmacro %}

{#- Acuity datetimes look like 2026-11-24T10:15:00-0500 (offset without colon; a colon is tolerated).
    acuity_local_timestamp: the wall-clock time where the appointment happens; null when unparseable. -#}
{% macro acuity_local_timestamp(expr) -%}
    {{ try_cast_or_null("replace(substr(" ~ expr ~ ", 1, 19), 'T', ' ')", "timestamp",
                 "^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}$") }}
{%- endmacro %}

{#- Offset from UTC in minutes (-0500 -> -300); null when the suffix is not an offset. -#}
{% macro acuity_offset_minutes(expr) -%}
    case
        when {{ regex_matches("substr(" ~ expr ~ ", 20)", "^[+-][0-9]{2}:?[0-9]{2}$") }}
        then (case when substr({{ expr }}, 20, 1) = '-' then -1 else 1 end)
            * (cast(substr(replace(substr({{ expr }}, 21), ':', ''), 1, 2) as integer) * 60
               + cast(substr(replace(substr({{ expr }}, 21), ':', ''), 3, 2) as integer))
    end
{%- endmacro %}

{#- The same instant in UTC: local time minus its offset. -#}
{% macro acuity_utc_timestamp(expr) -%}
    {{ dbt.dateadd('minute', '-1 * (' ~ acuity_offset_minutes(expr) ~ ')', acuity_local_timestamp(expr)) }}
{%- endmacro %}

{#- Money arrives as strings ("55", "0.00"); anything else is null, never a failed build. -#}
{% macro acuity_money(expr) -%}
    {{ try_cast_or_null("trim(" ~ expr ~ ")", "decimal(14, 2)", "^-?[0-9]+([.][0-9]+)?$") }}
{%- endmacro %}

{#- A date that arrives as text starting with an ISO date (2027-01-31, 2027-01-31T12:00:00): that day; anything
    else, an impossible day (2027-02-30) included, is null, never a failed build. -#}
{% macro acuity_date(expr) -%}
    {%- set day = "substr(" ~ expr ~ ", 1, 10)" -%}
    {%- set year = "cast(substr(" ~ expr ~ ", 1, 4) as integer)" -%}
    case
        when not {{ regex_matches(day,
            "^[0-9]{4}-((0[13578]|1[02])-(0[1-9]|[12][0-9]|3[01])|(0[469]|11)-(0[1-9]|[12][0-9]|30)|02-(0[1-9]|1[0-9]|2[0-9]))$") }}
            then null
        when substr({{ expr }}, 6, 5) = '02-29'
            and not ({{ year }} % 4 = 0 and ({{ year }} % 100 <> 0 or {{ year }} % 400 = 0))
            then null
        else {{ try_cast_or_null(day, 'date', '^[0-9]{4}-') }}
    end
{%- endmacro %}

{#- The person columns clients, appointments and orders all carry, raw and normalised for matching; the phone's
    country code comes from the tenant's settings seed (the model joins it as `settings`). -#}
{% macro acuity_person_columns() -%}
    first_name,
        last_name,
        {{ normalise_name('first_name', 'last_name') }} as client_name_normalised,
        email as email_raw,
        {{ normalise_email('email') }} as email_normalised,
        phone as phone_raw,
        {{ normalise_phone('phone', 'settings.phone_country_code') }} as phone_normalised
{%- endmacro %}
