{#- The raw table appears with the first rejected record; until then this model is an empty, typed relation. -#}
{%- set raw = source('acuity', 'rejected_records') -%}
{%- set exists = adapter.get_relation(database=raw.database, schema=raw.schema, identifier=raw.identifier) -%}
with

source as (

    {% if exists is not none -%}
    select * from {{ raw }}
    {%- else -%}
    select
        {% for column in ['tenant_id', 'run_id', 'resource', 'record_id', 'reason', 'action', 'payload',
                          '_dlt_load_id'] -%}
        cast(null as {{ dbt.type_string() }}) as {{ column }}{{ "," if not loop.last }}
        {% endfor -%}
    where 1 = 0
    {%- endif %}

),

renamed as (

    select
        tenant_id,
        run_id,
        resource,
        record_id,
        reason,
        action,
        payload,
        _dlt_load_id as load_id
    from source

)

select * from renamed
