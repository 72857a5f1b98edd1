-- Every client record each tenant's latest run loaded (the run row: fetched_clients less those it quarantined, counted
-- by the extractor) is one of marts.contacts' client_records, counted through contact resolution and the contacts
-- mart. A resolution that loses or doubles a record fails here. Runs that kept absent client records as last seen
-- (clients_held) are not judged: the warehouse then holds more than the run loaded.
with

runs as (

    select * from {{ ref('int_acuity__latest_runs') }}
    where coalesce(clients_held, 0) = 0

),

quarantined as (

    select rejected.tenant_id, count(*) as records
    from {{ ref('stg_acuity__rejected_records') }} as rejected
    inner join runs
        on runs.tenant_id = rejected.tenant_id
        and runs.run_id = rejected.run_id
    where rejected.resource = 'clients'
        and rejected.action = 'skipped'
    group by rejected.tenant_id

),

in_contacts as (

    select tenant_id, sum(client_records) as records
    from {{ ref('contacts') }}
    group by tenant_id

)

select
    runs.tenant_id,
    runs.fetched_clients - coalesce(quarantined.records, 0) as loaded,
    coalesce(in_contacts.records, 0) as in_contacts
from runs
left join quarantined
    on quarantined.tenant_id = runs.tenant_id
left join in_contacts
    on in_contacts.tenant_id = runs.tenant_id
where runs.fetched_clients - coalesce(quarantined.records, 0) <> coalesce(in_contacts.records, 0)
