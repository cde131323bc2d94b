-- Days past due is the age of the oldest unpaid instalment: between two rows of a loan it can grow by at most
-- the calendar days between them (it falls back when arrears are paid). Checks the days the latest build of
-- fct_loan_days wrote, against the business date before them (a full build: every day).

with

loan_days as (

    select
        loan_day_key,
        loan_id,
        performance_date,
        days_past_due,
        lag(performance_date) over by_loan as previous_performance_date,
        lag(days_past_due) over by_loan as previous_days_past_due

    from {{ ref('fct_loan_days') }}

    where performance_date >= {{ latest_build_start('fct_loan_days', include_previous=true) }}

    window by_loan as (
        partition by loan_id
        order by performance_date
    )

)

select *

from loan_days

where days_past_due > previous_days_past_due + (performance_date - previous_performance_date)
