-- Each user has one row for every day from their first event to the last day of the access data,
-- and that first row is a day with events.

with

user_days as (

    select * from {{ ref('fct_user_days') }}

),

last_day as (

    select max(activity_date) as last_activity_date from user_days

),

per_user as (

    select
        user_id,
        min(activity_date) as first_activity_date,
        max(activity_date) as last_activity_date,
        count(*) as days_count

    from user_days

    group by user_id

),

first_days as (

    select
        per_user.*,
        user_days.events_count as first_day_events_count

    from per_user

    inner join user_days
        on
            per_user.user_id = user_days.user_id
            and per_user.first_activity_date = user_days.activity_date

)

select first_days.*

from first_days

cross join last_day

where
    first_days.last_activity_date <> last_day.last_activity_date
    or first_days.days_count <> first_days.last_activity_date - first_days.first_activity_date + 1
    or first_days.first_day_events_count = 0
