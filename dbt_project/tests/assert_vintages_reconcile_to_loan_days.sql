{{ config(tags=['history'], enabled=var('ews_history_tests', false)) }}
-- Reads every loan day, so it is off in the daily build: `ews dbt build --full-refresh` runs it (it sets
-- var ews_history_tests), and so can anyone, any time: dbt test --select tag:history --vars '{ews_history_tests: true}'.
-- Every vintage holds the loans of fct_loan_days drawn in its month (and their principal), and at its last
-- months on book its defaulted loans are all those of them that were ever 90+ days past due; per segment and
-- for the whole book.

with

loans as (

    select
        loan_id,
        cast(date_trunc('month', min(origination_date)) as date) as origination_month_start_date,
        coalesce(min(segment), 'unknown') as segment,
        min(principal_amount) as principal_amount,
        bool_or(is_default) as has_defaulted

    from {{ ref('fct_loan_days') }}

    group by loan_id

),

book_vintages as (

    select
        origination_month_start_date,
        case when grouping(segment) = 1 then 'all' else segment end as segment,
        count(*) as loans_count,
        sum(principal_amount) as principal_amount,
        count(*) filter (where has_defaulted) as defaulted_loans_count

    from loans

    group by grouping sets ((origination_month_start_date, segment), (origination_month_start_date))

),

last_months_on_book as (

    select distinct on (origination_month_start_date, segment)
        origination_month_start_date,
        segment,
        vintage_loans_count,
        originated_principal_amount,
        defaulted_loans_count

    from {{ ref('fct_credit_vintages') }}

    order by
        origination_month_start_date,
        segment,
        months_on_book desc

)

select
    origination_month_start_date,
    segment,
    book_vintages.loans_count,
    last_months_on_book.vintage_loans_count,
    book_vintages.principal_amount,
    last_months_on_book.originated_principal_amount,
    book_vintages.defaulted_loans_count as book_defaulted_loans_count,
    last_months_on_book.defaulted_loans_count

from book_vintages

full outer join last_months_on_book
    using (origination_month_start_date, segment)

where
    book_vintages.loans_count is null
    or last_months_on_book.vintage_loans_count is null
    or book_vintages.loans_count <> last_months_on_book.vintage_loans_count
    or abs(book_vintages.principal_amount - last_months_on_book.originated_principal_amount)
    > {{ var('amount_tolerance') }}
    or book_vintages.defaulted_loans_count <> last_months_on_book.defaulted_loans_count
