{#-
    Incremental (macros/incremental_batches.sql): a run counts the days it rebuilds, every one from the earliest
    changed on (a replayed day can make an IP or object new on it rather than on a later day).
-#}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_dates',
    batch_sources=['access_events'],
    batches_from='int_access_events_sessionized',
    date_column='activity_date',
    rebuild='from_earliest',
    on_schema_change='fail',
    indexes=[{'columns': ['activity_date']}],
) }}

with

events as (

    select * from {{ ref('int_access_events_sessionized') }}
    {% if is_incremental() -%}
    where {{ from_planned_start('event_date') }}
    {%- endif %}

),

client_ips as (

    select * from {{ ref('int_access_client_ips_first_seen') }}
    {% if is_incremental() -%}
    where {{ from_planned_start('first_seen_date') }}
    {%- endif %}

),

objects as (

    select * from {{ ref('int_access_objects_first_seen') }}
    {% if is_incremental() -%}
    where {{ from_planned_start('first_seen_date') }}
    {%- endif %}

),

sessions as (

    select * from {{ ref('int_access_sessions_aggregated') }}
    {% if is_incremental() -%}
    where {{ from_planned_start('session_date') }}
    {%- endif %}

),

new_ips_per_user_day as (

    select
        user_id,
        first_seen_date as activity_date,
        count(*) as new_ip_count,
        count(distinct client_network) filter (where is_network_first_seen) as new_network_count

    from client_ips

    group by
        user_id,
        first_seen_date

),

new_sensitive_objects_per_user_day as (

    select
        user_id,
        first_seen_date as activity_date,
        count(*) as new_sensitive_object_count

    from objects

    where is_sensitive_object

    group by
        user_id,
        first_seen_date

),

sessions_per_user_day as (

    -- a session starting late on the day before can run into this day: it counts on its start day
    select
        user_id,
        session_date as activity_date,
        count(*) as sessions_count

    from sessions

    group by
        user_id,
        session_date

),

failed_logins_per_session_day as (

    -- the part of each session on each day, so a burst never counts on a day its failed logins are not in
    select
        user_id,
        event_date as activity_date,
        session_key,
        count(*) filter (where action = 'login_failed') as failed_login_count

    from events

    group by
        user_id,
        event_date,
        session_key

),

failed_login_bursts_per_user_day as (

    select
        user_id,
        activity_date,
        max(failed_login_count) as max_session_failed_logins_count

    from failed_logins_per_session_day

    group by
        user_id,
        activity_date

),

aggregated_to_user_days as (

    select
        user_id,
        event_date as activity_date,
        count(*) as events_count,
        cast(coalesce(sum(rows_read), 0) as bigint) as rows_read,
        count(*) filter (where action = 'select') as select_count,
        count(*) filter (where action = 'export') as export_count,
        count(*) filter (where action = 'login_failed') as failed_login_count,
        count(*) filter (where is_off_hours) as off_hours_events_count,
        count(*) filter (where is_sensitive_object) as sensitive_object_events_count,
        count(distinct object_name) as distinct_objects_count,
        count(distinct object_name) filter (where is_sensitive_object) as distinct_sensitive_objects_count,
        count(distinct client_ip) as distinct_ips_count,
        count(distinct event_hour) as active_hours_count

    from events

    group by
        user_id,
        event_date

),

joined as (

    select
        {{ surrogate_key(['aggregated_to_user_days.user_id', 'aggregated_to_user_days.activity_date']) }}
            as user_day_key,
        aggregated_to_user_days.*,
        coalesce(new_ips_per_user_day.new_ip_count, 0) as new_ip_count,
        coalesce(new_ips_per_user_day.new_network_count, 0) as new_network_count,
        coalesce(new_sensitive_objects_per_user_day.new_sensitive_object_count, 0) as new_sensitive_object_count,
        coalesce(sessions_per_user_day.sessions_count, 0) as sessions_count,
        failed_login_bursts_per_user_day.max_session_failed_logins_count

    from aggregated_to_user_days

    left join new_ips_per_user_day
        on
            aggregated_to_user_days.user_id = new_ips_per_user_day.user_id
            and aggregated_to_user_days.activity_date = new_ips_per_user_day.activity_date

    left join new_sensitive_objects_per_user_day
        on
            aggregated_to_user_days.user_id = new_sensitive_objects_per_user_day.user_id
            and aggregated_to_user_days.activity_date = new_sensitive_objects_per_user_day.activity_date

    left join sessions_per_user_day
        on
            aggregated_to_user_days.user_id = sessions_per_user_day.user_id
            and aggregated_to_user_days.activity_date = sessions_per_user_day.activity_date

    inner join failed_login_bursts_per_user_day
        on
            aggregated_to_user_days.user_id = failed_login_bursts_per_user_day.user_id
            and aggregated_to_user_days.activity_date = failed_login_bursts_per_user_day.activity_date

)

select * from joined
