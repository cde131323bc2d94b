-- The roll-rate matrix against the month-end rows of fct_loan_days, per segment and for the whole book:
-- the loans (and balance) rolling out of a bucket are the loans in it at the previous month's last business
-- date; the loans (and balance) rolling into a bucket other than closed are the loans in it at this month's
-- last business date that were already on the book at the previous one.

with

month_ends as (

    -- the months the latest build wrote and the month before them (a full build: every month), by their last
    -- business dates (one index probe per date): the loan days of whole months are many
    select
        month_start_date,
        month_end_date

    from {{ ref('int_performance_dates_aggregated_to_months') }}

    where month_start_date >= {{ latest_build_start('fct_credit_roll_rates', grain='month', include_previous=true) }}

),

month_end_loans as (

    select
        fct_loan_days.loan_id,
        fct_loan_days.performance_date,
        month_ends.month_start_date,
        coalesce(fct_loan_days.segment, 'unknown') as segment,
        fct_loan_days.delinquency_bucket,
        fct_loan_days.balance_amount

    from {{ ref('fct_loan_days') }}

    inner join month_ends
        on fct_loan_days.performance_date = month_ends.month_end_date

    -- the same dates as an array, read by the date's index (the join alone may scan every loan day)
    where fct_loan_days.performance_date = any(array(select month_end_date from month_ends))

),

roll_months as (

    select
        this_month.month_start_date as roll_month_start_date,
        previous_month.month_start_date as from_month_start_date

    from month_ends as this_month

    inner join month_ends as previous_month
        on previous_month.month_start_date = cast(this_month.month_start_date - interval '1 month' as date)

),

book_from as (

    select
        roll_months.roll_month_start_date,
        month_end_loans.segment,
        month_end_loans.delinquency_bucket as bucket,
        month_end_loans.balance_amount

    from roll_months

    inner join month_end_loans
        on roll_months.from_month_start_date = month_end_loans.month_start_date

),

book_to as (

    select
        roll_months.roll_month_start_date,
        this_month.segment,
        this_month.delinquency_bucket as bucket,
        this_month.balance_amount

    from roll_months

    inner join month_end_loans as this_month
        on roll_months.roll_month_start_date = this_month.month_start_date

    inner join month_end_loans as previous_month
        on
            this_month.loan_id = previous_month.loan_id
            and roll_months.from_month_start_date = previous_month.month_start_date

),

book_sides as (

    select
        'from' as side,
        roll_month_start_date,
        case when grouping(segment) = 1 then 'all' else segment end as segment,
        bucket,
        count(*) as loans_count,
        sum(balance_amount) as balance_amount

    from book_from

    group by grouping sets ((roll_month_start_date, segment, bucket), (roll_month_start_date, bucket))

    union all

    select
        'to' as side,
        roll_month_start_date,
        case when grouping(segment) = 1 then 'all' else segment end as segment,
        bucket,
        count(*) as loans_count,
        sum(balance_amount) as balance_amount

    from book_to

    group by grouping sets ((roll_month_start_date, segment, bucket), (roll_month_start_date, bucket))

),

matrix_sides as (

    select
        'from' as side,
        roll_month_start_date,
        segment,
        from_bucket as bucket,
        sum(loans_count) as loans_count,
        sum(from_balance_amount) as balance_amount

    from {{ ref('fct_credit_roll_rates') }}

    where roll_month_start_date >= {{ latest_build_start('fct_credit_roll_rates', grain='month') }}

    group by roll_month_start_date, segment, from_bucket

    union all

    select
        'to' as side,
        roll_month_start_date,
        segment,
        to_bucket as bucket,
        sum(loans_count) as loans_count,
        sum(to_balance_amount) as balance_amount

    from {{ ref('fct_credit_roll_rates') }}

    where
        to_bucket <> 'closed'
        and roll_month_start_date >= {{ latest_build_start('fct_credit_roll_rates', grain='month') }}

    group by roll_month_start_date, segment, to_bucket

    having sum(loans_count) > 0

)

select
    side,
    roll_month_start_date,
    segment,
    bucket,
    book_sides.loans_count as book_loans_count,
    matrix_sides.loans_count as matrix_loans_count,
    book_sides.balance_amount as book_balance_amount,
    matrix_sides.balance_amount as matrix_balance_amount

from book_sides

full outer join matrix_sides
    using (side, roll_month_start_date, segment, bucket)

where
    book_sides.loans_count is null
    or matrix_sides.loans_count is null
    or book_sides.loans_count <> matrix_sides.loans_count
    or abs(book_sides.balance_amount - matrix_sides.balance_amount) > {{ var('amount_tolerance') }}
