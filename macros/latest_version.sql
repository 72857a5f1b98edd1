{#- Raw tables are dlt scd2 histories (one row per version). This keeps each record's newest version, with how many
    versions it has; a newest version that dlt retired (_dlt_valid_to set) means the record vanished from Acuity. -#}
{% macro latest_version(relation, key) %}
    select *
    from (
        select
            *,
            row_number() over (
                partition by tenant_id, {{ key }}
                order by _dlt_valid_from desc, _dlt_valid_to desc
            ) as version_rank,
            count(*) over (partition by tenant_id, {{ key }}) as version_count
        from {{ relation }}
    ) as versions
    where version_rank = 1
{% endmacro %}
