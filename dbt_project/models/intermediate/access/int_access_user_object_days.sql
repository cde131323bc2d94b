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
    where
        object_name is not null
        {% if is_incremental() -%}
        and event_date = any(array{{ planned_dates() }})
        {%- endif %}

),

aggregated_to_user_object_days as (

    select
        user_id,
        object_name,
        event_date as activity_date,
        bool_or(is_sensitive_object) as is_sensitive_object,
        cast(count(*) as integer) as events_count,
        cast(count(*) filter (where action = 'export') as integer) as export_count

    from events

    group by
        user_id,
        object_name,
        event_date

)

select
    {{ surrogate_key(['user_id', 'object_name', 'activity_date']) }} as user_object_day_key,
    *

from aggregated_to_user_object_days
