{#- Incremental by date (macros/incremental_batches.sql): a day's rows come from that day's events only. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_dates',
    batch_sources=['access_events'],
    batches_from='int_access_events_sessionized',
    date_column='activity_date',
    on_schema_change='fail',
    indexes=[{'columns': ['activity_date']}],
) }}

with

events as (

    select * from {{ ref('int_access_events_sessionized') }}
    {% if is_incremental() -%}
    where event_date = any(array{{ planned_dates() }})
    {%- endif %}

),

aggregated_to_user_ip_days as (

    select
        user_id,
        client_ip,
        client_network,
        event_date as activity_date,
        min(event_at) as first_event_at,
        cast(count(*) as integer) as events_count

    from events

    group by
        user_id,
        client_ip,
        client_network,
        event_date

)

select
    {{ surrogate_key(['user_id', 'client_ip', 'activity_date']) }} as user_ip_day_key,
    *

from aggregated_to_user_ip_days
