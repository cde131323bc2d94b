{#-
    Incremental (macros/incremental_batches.sql): a run lays out the days from the earliest it rebuilds to the last
    day of the data, for every user first seen by then.
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

),

users as (

    select * from {{ ref('int_access_users_peer_grouped') }}

),

batches as (

    select * from {{ ref('stg_audit__batches') }}

),

data_end as (

    -- The last day the access data covers: its latest event, or a later passed batch with no events.
    select
        greatest(
            (select max(event_date) from events),
            (
                select max(business_date)
                from batches
                where source_name = 'access_events' and status = 'passed'
            )
        ) as last_data_date

),

first_days as (

    select
        users.user_id,
        {% if is_incremental() -%}
        greatest(users.first_event_date, {{ planned_start() }}) as first_date
        {%- else -%}
        users.first_event_date as first_date
        {%- endif %}

    from users
    {% if is_incremental() -%}
    where {{ planned_start() }} is not null
    {%- endif %}

),

spined as (

    select
        first_days.user_id,
        first_days.first_date + day_offset as activity_date

    from first_days

    cross join data_end

    cross join lateral generate_series(0, data_end.last_data_date - first_days.first_date) as day_offset

),

keyed as (

    select
        {{ surrogate_key(['user_id', 'activity_date']) }} as user_day_key,
        user_id,
        activity_date

    from spined

)

select * from keyed
