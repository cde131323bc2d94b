with

loan_days as (

    select * from {{ ref('fct_loan_days') }}

),

loan_months_on_book as (

    -- One row per loan per months-on-book value it was observed at; the balance is the one on its last day
    -- at that months on book.
    select
        loan_id,
        cast(date_trunc('month', min(origination_date)) as date) as origination_month_start_date,
        coalesce(min(segment), 'unknown') as segment,
        min(principal_amount) as principal_amount,
        months_on_book,
        bool_or(is_default) as is_default,
        (array_agg(balance_amount order by performance_date desc))[1] as balance_amount

    from loan_days

    group by
        loan_id,
        months_on_book

),

loan_first_defaults as (

    -- The first months on book at which the loan was 90+ (null if never): from then on it counts as defaulted,
    -- also at later months on book when it is no longer on the book.
    select
        *,
        min(months_on_book) over by_loan as first_observed_months_on_book,
        min(case when is_default then months_on_book end) over by_loan as first_default_months_on_book

    from loan_months_on_book

    window by_loan as (partition by loan_id)

),

vintage_months_on_book as (

    select
        origination_month_start_date,
        case when grouping(segment) = 1 then 'all' else segment end as segment,
        months_on_book,
        cast(count(*) as integer) as loans_count,
        cast(count(*) filter (where months_on_book = first_default_months_on_book) as integer)
            as new_defaulted_loans_count,
        sum(balance_amount) as balance_amount

    from loan_first_defaults

    group by grouping sets (
        (origination_month_start_date, segment, months_on_book),
        (origination_month_start_date, months_on_book)
    )

),

vintage_loans as (

    -- The vintage as the book shows it: its loans with at least one row in fct_loan_days.
    select
        origination_month_start_date,
        case when grouping(segment) = 1 then 'all' else segment end as segment,
        cast(count(*) as integer) as vintage_loans_count,
        sum(principal_amount) as originated_principal_amount

    from loan_first_defaults

    where months_on_book = first_observed_months_on_book

    group by grouping sets (
        (origination_month_start_date, segment),
        (origination_month_start_date)
    )

),

final as (

    select
        {{ surrogate_key([
            'vintage_months_on_book.origination_month_start_date',
            'vintage_months_on_book.segment',
            'vintage_months_on_book.months_on_book'
        ]) }} as vintage_key,
        vintage_months_on_book.origination_month_start_date,
        vintage_months_on_book.segment,
        vintage_months_on_book.months_on_book,
        vintage_months_on_book.loans_count,
        vintage_loans.vintage_loans_count,
        vintage_loans.originated_principal_amount,
        cast(
            sum(vintage_months_on_book.new_defaulted_loans_count) over by_vintage as integer
        ) as defaulted_loans_count,
        cast(sum(vintage_months_on_book.new_defaulted_loans_count) over by_vintage as double precision)
        / cast(vintage_loans.vintage_loans_count as double precision) * 100 as cumulative_default_rate_pct,
        vintage_months_on_book.balance_amount

    from vintage_months_on_book

    inner join vintage_loans
        on
            vintage_months_on_book.origination_month_start_date = vintage_loans.origination_month_start_date
            and vintage_months_on_book.segment = vintage_loans.segment

    window by_vintage as (
        partition by vintage_months_on_book.origination_month_start_date, vintage_months_on_book.segment
        order by vintage_months_on_book.months_on_book
        rows between unbounded preceding and current row
    )

)

select * from final
