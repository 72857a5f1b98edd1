-- seeds/ignored_identifiers.csv per tenant (a '*' row applies to every tenant), values normalised as models compare.
with

seed as (

    select * from {{ ref('ignored_identifiers') }}

),

tenants as (

    select distinct tenant_id from {{ ref('stg_acuity__sync_runs') }}

),

settings as (

    {{ tenant_settings() }}

),

final as (

    select distinct
        tenants.tenant_id,
        seed.identifier_type,
        {{ normalise_identifier('seed.identifier_type', 'seed.identifier_value', 'settings.phone_country_code') }} as identifier_value
    from seed
    inner join tenants
        on seed.tenant_id = tenants.tenant_id
        or seed.tenant_id = '*'
    left join settings
        on settings.tenant_id = tenants.tenant_id

)

select * from final
