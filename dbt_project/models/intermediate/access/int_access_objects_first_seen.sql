with

events as (

    select * from {{ ref('int_access_events_sessionized') }}

),

user_objects as (

    select
        user_id,
        object_name,
        bool_or(is_sensitive_object) as is_sensitive_object,
        min(event_date) as first_seen_date,
        max(event_date) as last_seen_date,
        count(*) as events_count,
        count(*) filter (where action = 'export') as export_count

    from events

    where object_name is not null

    group by
        user_id,
        object_name

),

keyed as (

    select
        {{ surrogate_key(['user_id', 'object_name']) }} as user_object_key,
        *

    from user_objects

)

select * from keyed
