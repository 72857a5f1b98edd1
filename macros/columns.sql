{#- Every column of a relation, read from the warehouse, so a model passes a table through without repeating its
    schema (the run row's columns are defined once, in extract/pipeline.py SYNC_RUN_COLUMNS). `overrides` maps a
    column to the expression that replaces it (a cast, a default); `except` leaves columns out. Like dbt_utils.star,
    it renders `*` while dbt parses (no warehouse then), which is only ever compiled, never run. -#}
{% macro columns_of(relation, overrides={}, except=[]) -%}
    {%- if not execute -%}{{ return('*') }}{%- endif -%}
    {%- set names = [] -%}
    {%- for column in adapter.get_columns_in_relation(relation) -%}
        {%- if column.name | lower not in except -%}{%- do names.append(column.name | lower) -%}{%- endif -%}
    {%- endfor -%}
    {%- for name in names -%}
        {%- if name in overrides -%}{{ overrides[name] }} as {{ adapter.quote(name) }}{%- else -%}{{ adapter.quote(name) }}{%- endif -%}
        {{ ",\n        " if not loop.last }}
    {%- endfor -%}
{%- endmacro %}
