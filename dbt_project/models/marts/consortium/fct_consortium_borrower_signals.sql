-- What the consortium learns about one person: how many institutions lend to them and how they pay, keyed by the
-- consortium pseudonym. No borrower id, loan id, institution id, region or segment leaves the institutions.
with

consortium_borrowers as (

    select * from {{ ref('int_loan_days_aggregated_to_consortium_borrowers') }}

),

final as (

    select
        consortium_borrower_key,
        as_of_date,
        institutions_count,
        loans_count,
        balance_amount,
        principal_amount,
        max_days_past_due,
        delinquency_bucket,
        is_default,
        past_due_institutions_count,
        defaulted_institutions_count

    from consortium_borrowers

)

select * from final
