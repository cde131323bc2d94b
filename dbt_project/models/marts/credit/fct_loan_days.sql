{#-
    Incremental (macros/incremental_batches.sql): a run rebuilds the business dates whose performance or repayment
    batches passed (or were superseded) since the last one, and every date from the earliest of them on; loans and
    borrowers delivered again (a revised record) get their attributes on all their days (post-hook
    patch_loan_attributes). Equal to a full build at every run (tests/test_incremental_models.py).
-#}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_dates',
    batch_sources=['loan_performance', 'repayments', 'loans', 'borrowers'],
    date_column='performance_date',
    rebuild='from_earliest',
    on_schema_change='fail',
) }}

with

performance as (

    select * from {{ ref('stg_core__loan_performance') }}
    {% if is_incremental() -%}
    where loaded_business_date = any(array{{ planned_dates() }})
    {%- endif %}

),

loans as (

    select * from {{ ref('int_loans_joined_to_borrowers') }}

),

repayments as (

    select * from {{ ref('int_repayments_aggregated_to_loan_days') }}
    {% if is_incremental() -%}
    where due_date = any(array{{ planned_dates() }})
    {%- endif %}

),

loan_days as (

    -- Inner join to loans: a performance row whose loan has not passed the gate yet waits for it.
    select
        performance.loan_day_key,
        performance.loan_id,
        loans.borrower_id,
        performance.performance_date,
        loans.product,
        loans.segment,
        loans.region,
        loans.institution_id,
        loans.origination_date,
        loans.principal_amount,
        loans.interest_rate_pct,
        performance.balance_amount,
        performance.days_past_due,
        {{ delinquency_bucket('performance.days_past_due') }} as delinquency_bucket,
        -- Default at 90 days past due (Basel III / IFRS 9 stage 3), the lower edge of the 90+ bucket.
        performance.days_past_due >= 90 as is_default,
        coalesce(repayments.due_amount, 0) as due_amount,
        coalesce(repayments.paid_amount, 0) as paid_amount,
        {{ months_between('loans.origination_date', 'performance.performance_date') }} as months_on_book

    from performance

    inner join loans
        on performance.loan_id = loans.loan_id

    left join repayments
        on
            performance.loan_id = repayments.loan_id
            and performance.performance_date = repayments.due_date

)

select * from loan_days
