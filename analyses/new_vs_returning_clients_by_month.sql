-- Is the business finding new clients or living on regulars? Per tenant and month: contacts seen that month for the
-- first time ever (new_clients) and contacts who had been seen in an earlier month (returning_clients), counting
-- appointments that matched a contact and are neither canceled nor removed. A contact's first month is that of their
-- earliest such appointment, in calendar-local time; future months count bookings already made, so the latest months
-- fill up as people book. new_share = new_clients / clients (0.4 = 40 % of that month's clients were new). History
-- starts where the first sync's backfill did (--since), so the earliest months count everyone as new.
with

appointments as (

    select * from {{ ref('appointments') }}
    where status in ('scheduled', 'no_show')
        and contact_id is not null
        and starts_at_local is not null

),

contact_months as (

    select distinct
        tenant_id,
        contact_id,
        cast({{ dbt.date_trunc('month', 'starts_at_local') }} as date) as month_start
    from appointments

),

first_months as (

    select
        tenant_id,
        contact_id,
        min(month_start) as first_month
    from contact_months
    group by tenant_id, contact_id

),

monthly as (

    select
        contact_months.tenant_id,
        contact_months.month_start,
        count(*) as clients,
        sum(case when contact_months.month_start = first_months.first_month then 1 else 0 end) as new_clients,
        sum(case when contact_months.month_start > first_months.first_month then 1 else 0 end) as returning_clients
    from contact_months
    inner join first_months
        on first_months.tenant_id = contact_months.tenant_id
        and first_months.contact_id = contact_months.contact_id
    group by contact_months.tenant_id, contact_months.month_start

),

final as (

    select
        tenant_id,
        month_start,
        clients,
        new_clients,
        returning_clients,
        round(1.0 * new_clients / clients, 3) as new_share
    from monthly

)

select * from final
order by tenant_id, month_start
