with

settings as (

    {{ tenant_settings() }}

),

source as (

    select * from {{ source('acuity', 'clients') }}

),

-- clients have no id in Acuity: the current record set is the rows dlt has not retired
current_clients as (

    select * from source
    where _dlt_valid_to is null

),

renamed as (

    select
        tenant_id,
        -- dlt's row hash of the record's content: stable while the record is unchanged
        _dlt_id as client_record_id,
        {{ acuity_person_columns() }},
        notes,
        _dlt_valid_from as version_valid_from,
        _dlt_load_id as load_id
    from current_clients
    left join settings using (tenant_id)

)

select * from renamed
