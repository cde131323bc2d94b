-- Outstanding principal never exceeds the amount lent (on the days the latest build of fct_loan_days wrote).

select
    loan_day_key,
    balance_amount,
    principal_amount

from {{ ref('fct_loan_days') }}

where
    {{ latest_build_dates('fct_loan_days', 'performance_date') }}
    and balance_amount > principal_amount + {{ var('amount_tolerance') }}
