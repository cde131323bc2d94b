-- Each month, the borrower months add up to the loan days: live loans and their balance at the month's last
-- business date, and what fell due and was paid on every day of the month. Checks the months the latest build
-- of fct_borrower_months wrote (a full build: every month).

with

loan_days as (

    select
        *,
        cast(date_trunc('month', performance_date) as date) as month_start_date

    from {{ ref('fct_loan_days') }}

    where performance_date >= {{ latest_build_start('fct_borrower_months', grain='month') }}

),

month_ends as (

    select
        month_start_date,
        max(performance_date) as month_end_date

    from loan_days

    group by month_start_date

),

loan_day_months as (

    select
        loan_days.month_start_date,
        count(*) filter (where loan_days.performance_date = month_ends.month_end_date) as loans_count,
        coalesce(
            sum(loan_days.balance_amount) filter (where loan_days.performance_date = month_ends.month_end_date), 0
        ) as balance_amount,
        sum(loan_days.due_amount) as due_amount,
        sum(loan_days.paid_amount) as paid_amount,
        count(distinct loan_days.borrower_id) as borrowers_count

    from loan_days

    inner join month_ends
        on loan_days.month_start_date = month_ends.month_start_date

    group by loan_days.month_start_date

),

borrower_month_totals as (

    select
        month_start_date,
        sum(loans_count) as loans_count,
        sum(balance_amount) as balance_amount,
        sum(due_amount) as due_amount,
        sum(paid_amount) as paid_amount,
        count(*) as borrowers_count

    from {{ ref('fct_borrower_months') }}

    where month_start_date >= {{ latest_build_start('fct_borrower_months', grain='month') }}

    group by month_start_date

)

select
    loan_day_months.*,
    borrower_month_totals.loans_count as borrower_months_loans_count,
    borrower_month_totals.balance_amount as borrower_months_balance_amount,
    borrower_month_totals.due_amount as borrower_months_due_amount,
    borrower_month_totals.paid_amount as borrower_months_paid_amount,
    borrower_month_totals.borrowers_count as borrower_months_borrowers_count

from loan_day_months

full outer join borrower_month_totals
    on loan_day_months.month_start_date = borrower_month_totals.month_start_date

where
    loan_day_months.month_start_date is null
    or borrower_month_totals.month_start_date is null
    or loan_day_months.loans_count <> borrower_month_totals.loans_count
    or loan_day_months.borrowers_count <> borrower_month_totals.borrowers_count
    or abs(loan_day_months.balance_amount - borrower_month_totals.balance_amount) > {{ var('amount_tolerance') }}
    or abs(loan_day_months.due_amount - borrower_month_totals.due_amount) > {{ var('amount_tolerance') }}
    or abs(loan_day_months.paid_amount - borrower_month_totals.paid_amount) > {{ var('amount_tolerance') }}
