{#- The two generic tests we need from dbt_utils, which cannot be installed here (no dbt hub access). -#}

{% test unique_combination(model, columns) %}
    select {{ columns | join(', ') }}, count(*) as occurrences
    from {{ model }}
    group by {{ columns | join(', ') }}
    having count(*) > 1
{% endtest %}

{#- Rows for which `expression` is false or null fail. -#}
{% test expression_is_true(model, expression, column_name=none, where_clause=none) %}
    select *
    from {{ model }}
    where not coalesce({{ expression }}, false)
    {%- if where_clause %} and ({{ where_clause }}){% endif %}
{% endtest %}
