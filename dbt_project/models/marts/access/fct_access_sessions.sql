with

sessions as (

    select * from {{ ref('int_access_sessions_aggregated') }}

),

final as (

    select
        session_key,
        user_id,
        client_ip,
        client_network,
        session_date,
        started_at,
        ended_at,
        duration_seconds,
        events_count,
        rows_read,
        failed_login_count,
        export_count,
        sensitive_object_events_count,
        off_hours_events_count,
        distinct_objects_count

    from sessions

)

select * from final
