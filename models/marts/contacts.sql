with

resolved as (

    select * from {{ ref('int_acuity__clients_resolved') }}

),

-- the record that names the contact: the most complete one (email, then phone), ties broken by record id
ranked as (

    select
        *,
        row_number() over (
            partition by tenant_id, contact_id
            order by
                case when email_normalised is null then 1 else 0 end,
                case when phone_normalised is null then 1 else 0 end,
                client_record_id
        ) as record_rank
    from resolved

),

merges as (

    select
        tenant_id,
        contact_id,
        count(*) as client_records,
        sum(case when merge_rule = 'phone' and email_normalised is null then 1 else 0 end) as records_merged_by_phone,
        min(contact_key) as contact_key
    from resolved
    group by tenant_id, contact_id

),

final as (

    select
        ranked.tenant_id,
        ranked.contact_id,
        ranked.first_name,
        ranked.last_name,
        ranked.email_normalised as email,
        ranked.phone_normalised as phone,
        merges.client_records,
        case
            when merges.client_records = 1 then 'single'
            when merges.records_merged_by_phone > 0 and merges.contact_key like 'email:%' then 'email+phone'
            when merges.contact_key like 'email:%' then 'email'
            else 'phone'
        end as merge_rule,
        merges.contact_key as merge_identifier
    from ranked
    inner join merges
        on merges.tenant_id = ranked.tenant_id
        and merges.contact_id = ranked.contact_id
    where ranked.record_rank = 1

)

select * from final
