with

events as (

    select * from {{ ref('stg_access__events') }}

),

batches as (

    select * from {{ ref('stg_audit__batches') }}

),

users as (

    select
        user_id,
        min(event_date) as first_event_date

    from events

    group by user_id

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

spined as (

    select
        users.user_id,
        users.first_event_date + day_offset as activity_date

    from users

    cross join data_end

    cross join lateral generate_series(0, data_end.last_data_date - users.first_event_date) as day_offset

),

keyed as (

    select
        {{ surrogate_key(['user_id', 'activity_date']) }} as user_day_key,
        user_id,
        activity_date

    from spined

)

select * from keyed
