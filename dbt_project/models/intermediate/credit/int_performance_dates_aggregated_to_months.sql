-- Reads the loan-day mart: the month ends are the business dates the credit book actually has rows for. The
-- dates come from its performance_date index one at a time (a loose index scan: one probe per business date), not
-- from a scan of every loan day.

with recursive

performance_dates as (

    select min(performance_date) as performance_date

    from {{ ref('fct_loan_days') }}

    union all

    select (
        select min(later.performance_date)
        from {{ ref('fct_loan_days') }} as later
        where later.performance_date > performance_dates.performance_date
    )

    from performance_dates

    where performance_dates.performance_date is not null

),

aggregated_to_months as (

    select
        cast(date_trunc('month', performance_date) as date) as month_start_date,
        max(performance_date) as month_end_date,
        cast(count(*) as integer) as business_dates_count

    from performance_dates

    where performance_date is not null

    group by month_start_date

),

previous_months as (

    -- The previous calendar month's last business date; null when that month has no data (the first month,
    -- or a month missing from the book), so nothing rolls across a gap.
    select
        month_start_date,
        month_end_date,
        business_dates_count,
        case
            when
                lag(month_start_date) over by_month
                = cast(month_start_date - interval '1 month' as date)
                then lag(month_end_date) over by_month
        end as previous_month_end_date

    from aggregated_to_months

    window by_month as (order by month_start_date)

)

select * from previous_months
