with

source as (

    select * from {{ source('acuity', 'sync_runs') }}

),

renamed as (

    select
        run_id,
        tenant_id,
        tenant_label,
        status,
        error,
        load_id,
        cast(as_of as timestamp) as as_of,
        cast(started_at as timestamp) as started_at,
        cast(finished_at as timestamp) as finished_at,
        cast(window_first as date) as window_first,
        cast(window_last as date) as window_last,
        duration_seconds,
        extract_seconds,
        normalize_seconds,
        load_seconds,
        http_requests,
        http_2xx,
        http_429,
        http_4xx_other,
        http_5xx,
        clients_status,
        appointments_status,
        orders_status,
        fetched_account,
        fetched_calendars,
        fetched_appointment_types,
        fetched_clients,
        fetched_appointments,
        fetched_orders,
        coalesce(appointments_rejected_time, 0) as appointments_rejected_time,
        coalesce(appointments_rejected_invalid, 0) as appointments_rejected_invalid,
        coalesce(records_skipped, 0) as records_skipped,
        coalesce(records_flagged, 0) as records_flagged,
        coalesce(records_deduplicated, 0) as records_deduplicated
    from source

)

select * from renamed
