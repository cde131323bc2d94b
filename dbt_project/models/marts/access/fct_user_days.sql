{#- Incremental (macros/incremental_batches.sql): the days from the earliest one rebuilt to the last. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_dates',
    batch_sources=['access_events'],
    batches_from='int_access_events_sessionized',
    date_column='activity_date',
    rebuild='from_earliest',
    on_schema_change='fail',
) }}

with

user_days as (

    select * from {{ ref('int_user_days_spined') }}
    {% if is_incremental() -%}
    where {{ from_planned_start('activity_date') }}
    {%- endif %}

),

activity as (

    select * from {{ ref('int_access_events_aggregated_to_user_days') }}
    {% if is_incremental() -%}
    where {{ from_planned_start('activity_date') }}
    {%- endif %}

),

final as (

    select
        user_days.user_day_key,
        user_days.user_id,
        user_days.activity_date,
        coalesce(activity.events_count, 0) as events_count,
        coalesce(activity.rows_read, 0) as rows_read,
        coalesce(activity.select_count, 0) as select_count,
        coalesce(activity.export_count, 0) as export_count,
        coalesce(activity.failed_login_count, 0) as failed_login_count,
        coalesce(activity.off_hours_events_count, 0) as off_hours_events_count,
        coalesce(activity.sensitive_object_events_count, 0) as sensitive_object_events_count,
        coalesce(activity.distinct_objects_count, 0) as distinct_objects_count,
        coalesce(activity.distinct_ips_count, 0) as distinct_ips_count,
        coalesce(activity.distinct_sensitive_objects_count, 0) as distinct_sensitive_objects_count,
        coalesce(activity.active_hours_count, 0) as active_hours_count,
        coalesce(activity.new_ip_count, 0) as new_ip_count,
        coalesce(activity.new_network_count, 0) as new_network_count,
        coalesce(activity.new_sensitive_object_count, 0) as new_sensitive_object_count,
        coalesce(activity.sessions_count, 0) as sessions_count,
        coalesce(activity.max_session_failed_logins_count, 0) as max_session_failed_logins_count

    from user_days

    left join activity
        on user_days.user_day_key = activity.user_day_key

)

select * from final
