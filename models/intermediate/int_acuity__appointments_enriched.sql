-- Each appointment's current version with the record contract's fallbacks applied (extract/contract.py FALLBACKS,
-- docs/acuity-api.md) where Acuity left a value out or sent one no column can hold: the calendar id from the one
-- calendar of that name, the calendar name and the appointment type's name from their ids, the time zone from the
-- calendar and then the account (Acuity's own documented example has no calendarTimezone), and no discount when
-- priceSold is absent.
with

appointments as (

    select * from {{ ref('stg_acuity__appointments') }}

),

calendars as (

    select * from {{ ref('stg_acuity__calendars') }}

),

appointment_types as (

    select * from {{ ref('stg_acuity__appointment_types') }}

),

accounts as (

    select * from {{ ref('stg_acuity__account') }}

),

-- a name two calendars share names neither
calendars_by_name as (

    select tenant_id, calendar, min(calendar_id) as calendar_id
    from calendars
    group by tenant_id, calendar
    having count(*) = 1

),

with_calendar_id as (

    select
        appointments.*,
        coalesce(appointments.calendar_id, calendars_by_name.calendar_id) as resolved_calendar_id
    from appointments
    left join calendars_by_name
        on calendars_by_name.tenant_id = appointments.tenant_id
        and calendars_by_name.calendar = appointments.calendar

),

enriched as (

    select
        with_calendar_id.tenant_id,
        with_calendar_id.appointment_id,
        with_calendar_id.first_name,
        with_calendar_id.last_name,
        with_calendar_id.client_name_normalised,
        with_calendar_id.email_raw,
        with_calendar_id.email_normalised,
        with_calendar_id.phone_raw,
        with_calendar_id.phone_normalised,
        with_calendar_id.appointment_type_id,
        coalesce(nullif(with_calendar_id.appointment_type, ''), appointment_types.appointment_type)
            as appointment_type,
        with_calendar_id.category,
        with_calendar_id.resolved_calendar_id as calendar_id,
        coalesce(nullif(with_calendar_id.calendar, ''), calendars.calendar) as calendar,
        coalesce(nullif(with_calendar_id.calendar_timezone, ''), calendars.timezone, accounts.timezone)
            as calendar_timezone,
        with_calendar_id.client_timezone,
        with_calendar_id.starts_at_raw,
        with_calendar_id.starts_at_local,
        with_calendar_id.utc_offset_minutes,
        with_calendar_id.starts_at_utc,
        with_calendar_id.created_at_utc,
        with_calendar_id.duration_minutes,
        with_calendar_id.price,
        coalesce(with_calendar_id.price_sold, with_calendar_id.price) as price_sold,
        with_calendar_id.amount_paid,
        with_calendar_id.is_paid,
        with_calendar_id.is_canceled,
        with_calendar_id.is_no_show,
        with_calendar_id.location,
        with_calendar_id.class_id,
        with_calendar_id.certificate_code,
        with_calendar_id.scheduled_by,
        with_calendar_id.is_removed,
        with_calendar_id.version_valid_from,
        with_calendar_id.removed_at,
        with_calendar_id.version_count,
        with_calendar_id.load_id
    from with_calendar_id
    left join calendars
        on calendars.tenant_id = with_calendar_id.tenant_id
        and calendars.calendar_id = with_calendar_id.resolved_calendar_id
    left join appointment_types
        on appointment_types.tenant_id = with_calendar_id.tenant_id
        and appointment_types.appointment_type_id = with_calendar_id.appointment_type_id
    left join accounts
        on accounts.tenant_id = with_calendar_id.tenant_id

)

select * from enriched
