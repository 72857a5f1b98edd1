with

appointments as (

    select * from {{ ref('stg_acuity__appointments') }}

),

matched as (

    {{ match_to_contact('appointments', 'appointment', 'appointment_id') }}

)

select * from matched
