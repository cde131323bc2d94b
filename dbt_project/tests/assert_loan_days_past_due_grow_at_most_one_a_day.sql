-- Days past due is the age of the oldest unpaid instalment: between two rows of a loan it can grow by at most
-- the calendar days between them (it falls back when arrears are paid).

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

    window by_loan as (
        partition by loan_id
        order by performance_date
    )

)

select *

from loan_days

where days_past_due > previous_days_past_due + (performance_date - previous_performance_date)
