{%- set off_hours_end_hour = var('off_hours_end_hour') -%}
{%- set off_hours_start_hour = var('off_hours_start_hour') -%}

with

events as (

    select * from {{ ref('stg_access__events') }}

),

sensitive_objects as (

    select * from {{ ref('sensitive_objects') }}

),

events_flagged as (

    select
        events.user_id,
        events.event_date,
        events.client_ip,
        events.action,
        events.object_name,
        events.rows_read,
        (
            events.event_hour < {{ off_hours_end_hour }}
            or events.event_hour >= {{ off_hours_start_hour }}
        ) as is_off_hours,
        sensitive_objects.object_name is not null as is_sensitive_object

    from events

    left join sensitive_objects
        on events.object_name = sensitive_objects.object_name

),

user_ips_first_seen as (

    -- An IP is new for a user on the first day that user is seen with it (any user's earlier use does not count).
    select
        user_id,
        client_ip,
        min(event_date) as first_seen_date

    from events

    group by
        user_id,
        client_ip

),

new_ips_per_user_day as (

    select
        user_id,
        first_seen_date as activity_date,
        count(*) as new_ip_count

    from user_ips_first_seen

    group by
        user_id,
        first_seen_date

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
        count(distinct client_ip) as distinct_ips_count

    from events_flagged

    group by
        user_id,
        event_date

),

joined as (

    select
        {{ surrogate_key(['aggregated_to_user_days.user_id', 'aggregated_to_user_days.activity_date']) }}
            as user_day_key,
        aggregated_to_user_days.*,
        coalesce(new_ips_per_user_day.new_ip_count, 0) as new_ip_count

    from aggregated_to_user_days

    left join new_ips_per_user_day
        on
            aggregated_to_user_days.user_id = new_ips_per_user_day.user_id
            and aggregated_to_user_days.activity_date = new_ips_per_user_day.activity_date

)

select * from joined
