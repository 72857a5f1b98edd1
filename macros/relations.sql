{#- On DuckDB, every ref() and source() renders without the database (catalog) name: "marts"."contacts", not
    "acuity"."marts"."contacts". DuckDB names a file's catalog after the file, so a view or a compiled analysis that
    named it would fail in the analysts' copy (analyst.duckdb) and in any tool that attaches the file under another
    name; an unqualified name binds within the view's own catalog, whatever it is called. This overrides dbt's ref and
    source the documented way (builtins.ref / builtins.source) and only drops the database part of the relation. -#}
{% macro ref() -%}
    {%- set version = kwargs.get('version') or kwargs.get('v') -%}
    {%- if varargs | length == 1 -%}
        {%- set relation = builtins.ref(varargs[0], version=version) -%}
    {%- else -%}
        {%- set relation = builtins.ref(varargs[0], varargs[1], version=version) -%}
    {%- endif -%}
    {{ return(_without_catalog(relation)) }}
{%- endmacro %}

{% macro source(source_name, table_name) -%}
    {{ return(_without_catalog(builtins.source(source_name, table_name))) }}
{%- endmacro %}

{% macro _without_catalog(relation) -%}
    {%- if target.type == 'duckdb' and relation.include is defined -%}
        {{ return(relation.include(database=false)) }}
    {%- endif -%}
    {{ return(relation) }}
{%- endmacro %}
