-- Every email, phone and name a contact can be matched on: which contact holds an identifier, and whether it is
-- ambiguous (names several contacts, so it never makes a match).
with

identifiers as (

    select * from {{ ref('int_acuity__contact_identifiers') }}

)

select * from identifiers
