-- The whole book's row of each business date holds every loan of fct_loan_days that day, its balance and its
-- loans 90+ days past due; each month has exactly one month end, its last business date. Checks the months the
-- latest build of fct_npl_ratio_days wrote (a full build: every month).

with

loan_days as (

    select
        performance_date,
        count(*) as loans_count,
        sum(balance_amount) as balance_amount,
        count(*) filter (where days_past_due >= 90) as npl_loans_count,
        max(performance_date) over (partition by date_trunc('month', performance_date)) as month_end_date

    from {{ ref('fct_loan_days') }}

    where performance_date >= {{ latest_build_start('fct_npl_ratio_days', grain='month') }}

    group by performance_date

),

whole_book as (

    select *

    from {{ ref('fct_npl_ratio_days') }}

    where
        segment = 'all'
        and performance_date >= {{ latest_build_start('fct_npl_ratio_days', grain='month') }}

)

select
    performance_date,
    loan_days.loans_count,
    whole_book.loans_count as npl_days_loans_count,
    loan_days.balance_amount,
    whole_book.balance_amount as npl_days_balance_amount,
    loan_days.npl_loans_count,
    whole_book.npl_loans_count as npl_days_npl_loans_count,
    loan_days.month_end_date,
    whole_book.is_month_end

from loan_days

full outer join whole_book
    using (performance_date)

where
    loan_days.loans_count is null
    or whole_book.loans_count is null
    or loan_days.loans_count <> whole_book.loans_count
    or abs(loan_days.balance_amount - whole_book.balance_amount) > {{ var('amount_tolerance') }}
    or loan_days.npl_loans_count <> whole_book.npl_loans_count
    or whole_book.is_month_end <> (performance_date = loan_days.month_end_date)
