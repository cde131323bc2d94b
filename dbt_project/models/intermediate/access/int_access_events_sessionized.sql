{%- set off_hours_end_hour = var('off_hours_end_hour') -%}
{%- set off_hours_start_hour = var('off_hours_start_hour') -%}
{%- set session_gap_minutes = var('access_session_gap_minutes', 30) -%}

with

events as (

    select * from {{ ref('stg_access__events') }}

),

sensitive_objects as (

    select * from {{ ref('sensitive_objects') }}

),

events_flagged as (

    select
        events.event_id,
        events.user_id,
        events.client_ip,
        -- The client's network: the /24 of an IPv4 address; any other address (IPv6, 'local') stands for itself.
        case
            when events.client_ip ~ '^[0-9]{1,3}(\.[0-9]{1,3}){3}$'
                then regexp_replace(events.client_ip, '\.[0-9]{1,3}$', '') || '.0/24'
            else events.client_ip
        end as client_network,
        events.action,
        events.object_name,
        events.rows_read,
        events.event_hour,
        events.event_date,
        events.event_at,
        (
            events.event_hour < {{ off_hours_end_hour }}
            or events.event_hour >= {{ off_hours_start_hour }}
        ) as is_off_hours,
        sensitive_objects.object_name is not null as is_sensitive_object

    from events

    left join sensitive_objects
        on events.object_name = sensitive_objects.object_name

),

gaps_marked as (

    -- A session is a user's run of events from one client IP with no pause longer than the session gap.
    select
        *,
        coalesce(
            event_at - lag(event_at) over (
                partition by user_id, client_ip
                order by event_at, event_id
            ) > interval '{{ session_gap_minutes }} minutes',
            true
        ) as is_session_start

    from events_flagged

),

sessions_numbered as (

    select
        *,
        sum(case when is_session_start then 1 else 0 end) over (
            partition by user_id, client_ip
            order by event_at, event_id
            rows between unbounded preceding and current row
        ) as session_number

    from gaps_marked

),

session_firsts as (

    select
        *,
        first_value(event_id) over (
            partition by user_id, client_ip, session_number
            order by event_at, event_id
        ) as session_first_event_id

    from sessions_numbered

),

keyed as (

    select
        event_id,
        {{ surrogate_key(['user_id', 'session_first_event_id']) }} as session_key,
        user_id,
        client_ip,
        client_network,
        action,
        object_name,
        rows_read,
        event_hour,
        event_date,
        event_at,
        is_off_hours,
        is_sensitive_object,
        is_session_start

    from session_firsts

)

select * from keyed
