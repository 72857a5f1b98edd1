{#- The seed's matching precedence, shared by appointments and orders: normalised email, then normalised phone, then
    client id (Acuity has none: the identity Acuity itself uses, first + last name). A rule matches only when its
    identifier names exactly one contact of the same tenant; whatever matches nothing stays, as 'unmatched'. -#}
{% macro match_to_contact(records) %}
    {%- set rules = [('email', 'email', 'email_normalised'), ('phone', 'phone', 'phone_normalised'),
                     ('client_id', 'name', 'client_name_normalised')] -%}
    select
        {{ records }}.*,
        coalesce({% for rule, _, _ in rules %}by_{{ rule }}.contact_id{{ ", " if not loop.last }}{% endfor %})
            as contact_id,
        case
            {%- for rule, _, _ in rules %}
            when by_{{ rule }}.contact_id is not null then '{{ rule }}'
            {%- endfor %}
            else 'unmatched'
        end as match_rule
    from {{ records }}
    {%- for rule, identifier_type, column in rules %}
    left join {{ ref('int_acuity__contact_identifiers') }} as by_{{ rule }}
        on by_{{ rule }}.tenant_id = {{ records }}.tenant_id
        and by_{{ rule }}.identifier_type = '{{ identifier_type }}'
        and by_{{ rule }}.identifier_value = {{ records }}.{{ column }}
        and not by_{{ rule }}.is_ambiguous
    {%- endfor %}
{% endmacro %}
