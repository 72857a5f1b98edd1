{#- Analysts query `marts.future_appointments`, not `main_marts.future_appointments`: custom schemas are used as
    named, and models without one land in the target schema. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}{{ target.schema }}{%- else -%}{{ custom_schema_name | trim }}{%- endif -%}
{%- endmacro %}
