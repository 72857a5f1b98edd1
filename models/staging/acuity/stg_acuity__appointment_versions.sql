-- Every version of every appointment dlt's scd2 history holds, one row per version: what each load saw. The marts
-- that say what changed between runs (last_run_changes) compare a run's versions with the ones they replaced.
with

source as (

    select * from {{ source('acuity', 'appointments') }}

),

renamed as (

    select
        tenant_id,
        cast(id as bigint) as appointment_id,
        first_name,
        last_name,
        calendar,
        "datetime" as starts_at_raw,
        {{ acuity_local_timestamp('"datetime"') }} as starts_at_local,
        {{ acuity_utc_timestamp('"datetime"') }} as starts_at_utc,
        {{ acuity_utc_timestamp('datetime_created') }} as created_at_utc,
        {{ acuity_money('amount_paid') }} as amount_paid,
        coalesce(lower(trim(paid)) = 'yes', false) as is_paid,
        coalesce(canceled, false) as is_canceled,
        coalesce(no_show, false) as is_no_show,
        _dlt_valid_from as version_valid_from,
        _dlt_valid_to as version_valid_to,
        _dlt_load_id as load_id
    from source
    where id is not null

)

select * from renamed
