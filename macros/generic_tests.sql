{#- Generic tests dbt_utils would give us, which cannot be installed here (no dbt hub access). -#}

{#- A key: no column of it is null and no two rows share it. One test instead of not_null + unique per column keeps
    `dbt build` short (each test is a node with ~30 ms of dbt overhead, more than the query costs). -#}
{% test primary_key(model, columns) %}
    select {{ columns | join(', ') }}, count(*) as occurrences
    from {{ model }}
    group by {{ columns | join(', ') }}
    having count(*) > 1
    {%- for column in columns %} or {{ column }} is null{% endfor %}
{% endtest %}

{#- Rows for which `expression` is false or null fail. -#}
{% test expression_is_true(model, expression, column_name=none, where_clause=none) %}
    select *
    from {{ model }}
    where not coalesce({{ expression }}, false)
    {%- if where_clause %} and ({{ where_clause }}){% endif %}
{% endtest %}
