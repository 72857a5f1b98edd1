-- Every identifier a contact can be matched on, flagged when it names more than one contact (e.g. a household phone
-- shared by two people): an ambiguous identifier never makes a match.
with

resolved as (

    select * from {{ ref('int_acuity__clients_resolved') }}

),

identifiers as (

    select tenant_id, contact_id, 'email' as identifier_type, email_normalised as identifier_value
    from resolved
    where email_normalised is not null

    union all

    select tenant_id, contact_id, 'phone' as identifier_type, phone_normalised as identifier_value
    from resolved
    where phone_normalised is not null

    union all

    select tenant_id, contact_id, 'name' as identifier_type, client_name_normalised as identifier_value
    from resolved
    where client_name_normalised is not null

),

distinct_identifiers as (

    select distinct tenant_id, contact_id, identifier_type, identifier_value
    from identifiers

),

final as (

    select
        tenant_id,
        contact_id,
        identifier_type,
        identifier_value,
        count(*) over (partition by tenant_id, identifier_type, identifier_value) > 1 as is_ambiguous
    from distinct_identifiers

)

select * from final
