-- Every product (mortgage, personal, auto, sme_term) is an amortising term loan, never redrawn, and arrears
-- are not capitalised: the end-of-day balance never grows from one day to the next. Checks the days the latest
-- build of fct_loan_days wrote, against the business date before them (a full build: every day).

with

loan_days as (

    select
        loan_day_key,
        loan_id,
        performance_date,
        balance_amount,
        lag(balance_amount) over (partition by loan_id order by performance_date) as previous_balance_amount

    from {{ ref('fct_loan_days') }}

    where performance_date >= {{ latest_build_start('fct_loan_days', include_previous=true) }}

)

select *

from loan_days

where balance_amount > previous_balance_amount + {{ var('amount_tolerance') }}
