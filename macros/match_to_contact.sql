{#- The seed's matching precedence, shared by appointments and orders: a manual assignment (seeds/
    contact_assignments.csv) first, then normalised email, then normalised phone, then client id (Acuity has none:
    the identity Acuity itself uses, first + last name). A rule matches only when its identifier names exactly one
    contact of the same tenant; an assignment only when it names an existing contact; whatever matches nothing stays,
    as 'unmatched'. -#}
{% macro match_to_contact(records, record_type, id_column) %}
    {%- set rules = [('email', 'email', 'email_normalised'), ('phone', 'phone', 'phone_normalised'),
                     ('client_id', 'name', 'client_name_normalised')] -%}
    select
        {{ records }}.*,
        coalesce(by_manual.contact_id, {% for rule, _, _ in rules %}by_{{ rule }}.contact_id{{ ", " if not loop.last }}{% endfor %})
            as contact_id,
        case
            when by_manual.contact_id is not null then 'manual'
            {%- for rule, _, _ in rules %}
            when by_{{ rule }}.contact_id is not null then '{{ rule }}'
            {%- endfor %}
            else 'unmatched'
        end as match_rule
    from {{ records }}
    left join (
        select distinct assignments.tenant_id, assignments.record_id, contacts.contact_id
        from {{ ref('contact_assignments') }} as assignments
        inner join {{ ref('int_acuity__clients_resolved') }} as contacts
            on contacts.tenant_id = assignments.tenant_id
            and contacts.contact_key = trim(assignments.contact)
        where assignments.record_type = '{{ record_type }}'
    ) as by_manual
        on by_manual.tenant_id = {{ records }}.tenant_id
        and by_manual.record_id = {{ records }}.{{ id_column }}
    {%- for rule, identifier_type, column in rules %}
    left join {{ ref('int_acuity__contact_identifiers') }} as by_{{ rule }}
        on by_{{ rule }}.tenant_id = {{ records }}.tenant_id
        and by_{{ rule }}.identifier_type = '{{ identifier_type }}'
        and by_{{ rule }}.identifier_value = {{ records }}.{{ column }}
        and not by_{{ rule }}.is_ambiguous
    {%- endfor %}
{% endmacro %}
