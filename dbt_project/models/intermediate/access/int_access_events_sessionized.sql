{%- set off_hours_end_hour = var('off_hours_end_hour') -%}
{%- set off_hours_start_hour = var('off_hours_start_hour') -%}
{%- set session_gap_minutes = var('access_session_gap_minutes', 30) -%}
{#-
    Incremental (macros/incremental_batches.sql): a run sessionizes the events of the dates it rebuilds (every date
    from the earliest changed one on), each user and IP going on from its last stored event before them: a
    session running past midnight keeps its key.
-#}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_dates',
    batch_sources=['access_events'],
    date_column='event_date',
    rebuild='from_earliest',
    on_schema_change='fail',
    indexes=[{'columns': ['event_date']}, {'columns': ['session_key']}],
) }}

with

events as (

    select * from {{ ref('stg_access__events') }}
    {% if is_incremental() -%}
    where loaded_business_date = any(array{{ planned_dates() }})
    {%- endif %}

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

{% if is_incremental() %}
carried as (

    -- Each user and IP's last stored event before the rebuilt dates, when it is close enough to go on.
    select distinct on (user_id, client_ip)
        user_id,
        client_ip,
        event_at,
        event_id,
        session_key

    from {{ this }}

    where
        event_date < {{ planned_start() }}
        -- the same bound on the indexed date: without it the index scan read every stored day before the start
        and event_date >= cast(cast({{ planned_start() }} as timestamp) - interval '{{ session_gap_minutes }} minutes' as date)
        and event_at >= cast({{ planned_start() }} as timestamp) at time zone 'UTC' - interval '{{ session_gap_minutes }} minutes'

    order by
        user_id,
        client_ip,
        event_at desc,
        event_id desc

),
{% endif %}

with_carried as (

    select
        events_flagged.*,
        false as is_carried,
        cast(null as text) as carried_session_key

    from events_flagged
    {% if is_incremental() %}
    union all
    select
        carried.event_id,
        carried.user_id,
        carried.client_ip,
        null,
        null,
        null,
        null,
        null,
        null,
        carried.event_at,
        null,
        null,
        true,
        carried.session_key

    from carried
    {% endif %}

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

    from with_carried

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

    -- The session's key: user_id | its first event_id, or the stored key of a session it goes on with.
    select
        *,
        first_value(
            case
                when is_carried then carried_session_key
                else {{ surrogate_key(['user_id', 'event_id']) }}
            end
        ) over (
            partition by user_id, client_ip, session_number
            order by event_at, event_id
        ) as session_key

    from sessions_numbered

),

keyed as (

    select
        event_id,
        session_key,
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

    where not is_carried

)

select * from keyed
