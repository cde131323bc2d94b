{#-
    Incremental (macros/incremental_batches.sql): the sessions that ended on a rebuilt date or later (a session that
    began the day before included); a correction first drops those.
-#}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_keys',
    unique_key=['session_key'],
    batch_sources=['access_events'],
    batches_from='int_access_sessions_aggregated',
    date_column='ended_date',
    rebuild='from_earliest',
    on_schema_change='fail',
) }}

with

sessions as (

    select * from {{ ref('int_access_sessions_aggregated') }}
    {% if is_incremental() -%}
    where {{ from_planned_start('ended_date') }}
    {%- endif %}

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
        ended_date,
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
