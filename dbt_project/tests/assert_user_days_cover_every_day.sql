-- On every day the latest build of fct_user_days wrote (a full build: every day), each user first seen by then has
-- exactly one row, and a user's first day is a day with events.

with

built_days as (

    select * from {{ ref('fct_user_days') }}

    where {{ latest_build_dates('fct_user_days', 'activity_date') }}

),

days as (

    select distinct activity_date from built_days

),

expected as (

    select
        users.user_id,
        users.first_event_date,
        days.activity_date

    from {{ ref('dim_access_users') }} as users

    inner join days
        on days.activity_date >= users.first_event_date

),

actual as (

    select
        user_id,
        activity_date,
        count(*) as rows_count,
        max(events_count) as events_count

    from built_days

    group by
        user_id,
        activity_date

)

select
    user_id,
    activity_date,
    expected.first_event_date,
    actual.rows_count,
    actual.events_count

from expected

full outer join actual
    using (user_id, activity_date)

where
    expected.user_id is null
    or actual.rows_count is null
    or actual.rows_count <> 1
    or (activity_date = expected.first_event_date and actual.events_count = 0)
