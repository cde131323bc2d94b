with

events as (

    select * from {{ ref('int_access_events_sessionized') }}

),

aggregated_to_user_hours as (

    select
        user_id,
        event_date as activity_date,
        event_hour as hour_of_day,
        count(*) as events_count,
        cast(coalesce(sum(rows_read), 0) as bigint) as rows_read,
        count(*) filter (where action = 'export') as export_count,
        count(*) filter (where action = 'login_failed') as failed_login_count,
        count(*) filter (where is_sensitive_object) as sensitive_object_events_count,
        count(distinct object_name) as distinct_objects_count

    from events

    group by
        user_id,
        event_date,
        event_hour

),

keyed as (

    select
        {{ surrogate_key(['user_id', 'activity_date', 'hour_of_day']) }} as user_hour_key,
        *

    from aggregated_to_user_hours

)

select * from keyed
