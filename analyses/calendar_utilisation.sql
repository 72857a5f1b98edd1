-- How full is each calendar, week by week? Booked minutes (appointments neither canceled nor removed) per tenant,
-- calendar and week, for the 8 weeks before the latest run's as-of and the 8 weeks from it: week_offset -8 .. -1 are
-- past weeks, 0 is the week that holds as-of, 1 .. 7 the weeks after. Weeks start on Monday and are counted in the
-- calendar's own wall-clock time; a week with nothing booked is there with 0, so gaps show. Past weeks show what was
-- delivered (no-shows included: the slot was taken), future weeks what is already booked — compare booked_hours with
-- the hours the calendar is open to read it as utilisation.
{%- set weeks_before, weeks_from = 8, 8 %}
with

appointments as (

    select * from {{ ref('appointments') }}
    where status in ('scheduled', 'no_show')
        and starts_at_local is not null

),

calendars as (

    select distinct tenant_id, calendar_id, calendar from {{ ref('appointments') }}

),

runs as (

    select * from {{ ref('sync_metrics') }}

),

week_offsets as (

    {%- for offset in range(-weeks_before, weeks_from) %}
    select {{ offset }} as week_offset{{ " union all" if not loop.last }}
    {%- endfor %}

),

weeks as (

    select
        runs.tenant_id,
        week_offsets.week_offset,
        cast({{ dbt.dateadd('week', 'week_offsets.week_offset', dbt.date_trunc('week', 'runs.as_of')) }} as date)
            as week_start
    from runs
    cross join week_offsets

),

calendar_weeks as (

    select
        weeks.tenant_id,
        calendars.calendar_id,
        calendars.calendar,
        weeks.week_offset,
        weeks.week_start
    from weeks
    inner join calendars
        on calendars.tenant_id = weeks.tenant_id

),

booked as (

    select
        tenant_id,
        calendar_id,
        cast({{ dbt.date_trunc('week', 'starts_at_local') }} as date) as week_start,
        count(*) as appointments,
        sum(duration_minutes) as booked_minutes
    from appointments
    group by tenant_id, calendar_id, cast({{ dbt.date_trunc('week', 'starts_at_local') }} as date)

),

final as (

    select
        calendar_weeks.tenant_id,
        calendar_weeks.calendar,
        calendar_weeks.week_start,
        calendar_weeks.week_offset,
        case when calendar_weeks.week_offset < 0 then 'past' else 'next' end as period,
        coalesce(booked.appointments, 0) as appointments,
        coalesce(booked.booked_minutes, 0) as booked_minutes,
        round(coalesce(booked.booked_minutes, 0) / 60.0, 1) as booked_hours,
        calendar_weeks.calendar_id
    from calendar_weeks
    left join booked
        on booked.tenant_id = calendar_weeks.tenant_id
        and booked.calendar_id = calendar_weeks.calendar_id
        and booked.week_start = calendar_weeks.week_start

)

select * from final
order by tenant_id, calendar, week_start
