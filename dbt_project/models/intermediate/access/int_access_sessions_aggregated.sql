{#-
    Incremental (macros/incremental_batches.sql): a run sums up again the sessions with an event on the dates it
    rebuilds (a session that began the day before included); a correction first drops the sessions that ended on
    or after its earliest date.
-#}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_keys',
    unique_key=['session_key'],
    batch_sources=['access_events'],
    batches_from='int_access_events_sessionized',
    date_column='ended_date',
    rebuild='from_earliest',
    on_schema_change='fail',
    indexes=[{'columns': ['session_key'], 'unique': true}, {'columns': ['ended_date']}, {'columns': ['session_date']}],
) }}

with

events as (

    select * from {{ ref('int_access_events_sessionized') }}
    {% if is_incremental() -%}
    -- as an array: a semi-join the planner takes for a share of the history and merges with every stored event
    where session_key = any(array(
        select distinct rebuilt.session_key
        from {{ ref('int_access_events_sessionized') }} as rebuilt
        where rebuilt.event_date = any(array{{ planned_dates() }})
    ))
    {%- endif %}

),

aggregated as (

    select
        session_key,
        user_id,
        client_ip,
        client_network,
        min(event_at) as started_at,
        max(event_at) as ended_at,
        count(*) as events_count,
        cast(coalesce(sum(rows_read), 0) as bigint) as rows_read,
        count(*) filter (where action = 'login_failed') as failed_login_count,
        count(*) filter (where action = 'export') as export_count,
        count(*) filter (where is_sensitive_object) as sensitive_object_events_count,
        count(*) filter (where is_off_hours) as off_hours_events_count,
        count(distinct object_name) as distinct_objects_count

    from events

    group by
        session_key,
        user_id,
        client_ip,
        client_network

),

final as (

    select
        session_key,
        user_id,
        client_ip,
        client_network,
        started_at,
        ended_at,
        cast(started_at at time zone 'UTC' as date) as session_date,
        cast(ended_at at time zone 'UTC' as date) as ended_date,
        cast(extract(epoch from ended_at - started_at) as bigint) as duration_seconds,
        events_count,
        rows_read,
        failed_login_count,
        export_count,
        sensitive_object_events_count,
        off_hours_events_count,
        distinct_objects_count

    from aggregated

)

select * from final
