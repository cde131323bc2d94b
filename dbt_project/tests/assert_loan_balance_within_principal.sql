-- Outstanding principal never exceeds the amount lent.

select
    loan_day_key,
    balance_amount,
    principal_amount

from {{ ref('fct_loan_days') }}

where balance_amount > principal_amount + {{ var('amount_tolerance') }}
