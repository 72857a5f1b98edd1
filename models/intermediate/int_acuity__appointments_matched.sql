with

appointments as (

    select * from {{ ref('stg_acuity__appointments') }}

),

matched as (

    {{ match_to_contact('appointments') }}

)

select * from matched
