-- How do the answers to each intake-form question change over time? Per tenant, form field and month (of the
-- appointment's local start), how many appointments answered each value and that value's share of the field's answers
-- that month — e.g. "How did you hear about us?": Google 0.4, Instagram 0.25. Canceled and removed appointments are
-- left out (their answers describe bookings that did not happen); empty answers count as '(no answer)'. A field is
-- known by its id, under the name it carries (Acuity sometimes sends an empty one); line breaks in an answer count
-- as spaces, so "A\r\nfriend" is "A friend".
with

answers as (

    select * from {{ ref('appointment_form_answers') }}
    where status in ('scheduled', 'no_show')
        and starts_at_local is not null

),

names as (

    select
        tenant_id,
        form_id,
        field_id,
        max(nullif(form_name, '')) as form_name,
        max(nullif(field_name, '')) as field_name
    from answers
    group by 1, 2, 3

),

monthly as (

    select
        answers.tenant_id,
        names.form_name,
        names.field_name,
        cast({{ dbt.date_trunc('month', 'answers.starts_at_local') }} as date) as month_start,
        coalesce(nullif(trim({{ collapse_whitespace('answers.answer') }}), ''), '(no answer)') as answer,
        count(*) as answers
    from answers
    inner join names
        on names.tenant_id = answers.tenant_id
        and names.form_id = answers.form_id
        and names.field_id = answers.field_id
    group by 1, 2, 3, 4, 5

),

final as (

    select
        tenant_id,
        form_name,
        field_name,
        month_start,
        answer,
        answers,
        round(1.0 * answers / sum(answers) over (partition by tenant_id, form_name, field_name, month_start), 3)
            as share_of_month
    from monthly

)

select * from final
order by tenant_id, form_name, field_name, month_start, answers desc, answer
