{#- The few SQL spellings that differ between warehouses, behind adapter.dispatch so models stay one copy.
    default__ is PostgreSQL's spelling; DuckDB and Snowflake override where they differ. -#}

{% macro regex_matches(expr, pattern) -%}
    {{ return(adapter.dispatch('regex_matches', 'acuity')(expr, pattern)) }}
{%- endmacro %}
{% macro default__regex_matches(expr, pattern) -%}({{ expr }} ~ '{{ pattern }}'){%- endmacro %}
{% macro duckdb__regex_matches(expr, pattern) -%}regexp_matches({{ expr }}, '{{ pattern }}'){%- endmacro %}
{% macro snowflake__regex_matches(expr, pattern) -%}regexp_like({{ expr }}, '{{ pattern }}'){%- endmacro %}

{#- Cast that yields null instead of failing the build on a value that is not of the type; the pattern guards
    warehouses without try_cast. -#}
{% macro try_cast_or_null(expr, type, pattern) -%}
    {{ return(adapter.dispatch('try_cast_or_null', 'acuity')(expr, type, pattern)) }}
{%- endmacro %}
{% macro default__try_cast_or_null(expr, type, pattern) -%}
    case when {{ regex_matches(expr, pattern) }} then cast({{ expr }} as {{ type }}) end
{%- endmacro %}
{% macro duckdb__try_cast_or_null(expr, type, pattern) -%}
    case when {{ regex_matches(expr, pattern) }} then try_cast({{ expr }} as {{ type }}) end
{%- endmacro %}
{% macro snowflake__try_cast_or_null(expr, type, pattern) -%}try_cast({{ expr }} as {{ type }}){%- endmacro %}

{% macro digits_only(expr) -%}
    {{ return(adapter.dispatch('digits_only', 'acuity')(expr)) }}
{%- endmacro %}
{% macro default__digits_only(expr) -%}regexp_replace({{ expr }}, '[^0-9]', '', 'g'){%- endmacro %}
{% macro snowflake__digits_only(expr) -%}regexp_replace({{ expr }}, '[^0-9]', ''){%- endmacro %}

{#- Runs of whitespace (spaces, tabs, line breaks such as a form answer's \r\n) as one space. -#}
{% macro collapse_whitespace(expr) -%}
    {{ return(adapter.dispatch('collapse_whitespace', 'acuity')(expr)) }}
{%- endmacro %}
{% macro default__collapse_whitespace(expr) -%}regexp_replace({{ expr }}, '\s+', ' ', 'g'){%- endmacro %}
{% macro snowflake__collapse_whitespace(expr) -%}regexp_replace({{ expr }}, '\\s+', ' '){%- endmacro %}

{#- The elements of a JSON array column as a set-returning select-list expression: `select t.id,
    {{ json_array_items('t.col') }} as e from t` gives one row per element, its JSON as e (read fields with ->>). Rows
    whose array is null, empty or not an array give none. In the select list rather than a lateral join: DuckDB runs a
    lateral json_each as a join back on the array's text, ~3x slower on a million appointments. -#}
{% macro json_array_items(expr) -%}
    {{ return(adapter.dispatch('json_array_items', 'acuity')(expr)) }}
{%- endmacro %}
{% macro default__json_array_items(expr) -%}
    jsonb_array_elements(case when jsonb_typeof(cast({{ expr }} as jsonb)) = 'array' then cast({{ expr }} as jsonb) end)
{%- endmacro %}
{% macro duckdb__json_array_items(expr) -%}
    unnest(cast(case when json_type({{ expr }}) = 'ARRAY' then {{ expr }} end as json[]))
{%- endmacro %}

{#- A JSON scalar's text: 3301 and "3301" both read '3301' (an object or array reads its JSON text). -#}
{% macro json_scalar_text(expr) -%}
    {{ return(adapter.dispatch('json_scalar_text', 'acuity')(expr)) }}
{%- endmacro %}
{% macro default__json_scalar_text(expr) -%}(cast({{ expr }} as jsonb) #>> '{}'){%- endmacro %}
{% macro duckdb__json_scalar_text(expr) -%}({{ expr }} ->> '$'){%- endmacro %}

{#- The keys of a JSON object column as a set-returning select-list expression (like json_array_items): one row per
    key; rows whose value is null or not an object give none. Read a key's value with `expr ->> key`. -#}
{% macro json_object_keys(expr) -%}
    {{ return(adapter.dispatch('json_object_keys', 'acuity')(expr)) }}
{%- endmacro %}
{% macro default__json_object_keys(expr) -%}
    jsonb_object_keys(case when jsonb_typeof(cast({{ expr }} as jsonb)) = 'object' then cast({{ expr }} as jsonb) end)
{%- endmacro %}
{% macro duckdb__json_object_keys(expr) -%}
    unnest(json_keys(case when json_type({{ expr }}) = 'OBJECT' then {{ expr }} end))
{%- endmacro %}
