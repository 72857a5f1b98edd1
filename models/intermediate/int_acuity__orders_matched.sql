with

orders as (

    select * from {{ ref('stg_acuity__orders') }}

),

matched as (

    {{ match_to_contact('orders', 'order', 'order_id') }}

)

select * from matched
