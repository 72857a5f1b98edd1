with

appointments as (

    select * from {{ ref('int_acuity__appointments_enriched') }}

),

matched as (

    {{ match_to_contact('appointments', 'appointment', 'appointment_id') }}

)

select * from matched
