with

loans as (

    select * from {{ ref('stg_core__loans') }}

),

borrowers as (

    select * from {{ ref('stg_core__borrowers') }}

),

loans_joined_to_borrowers as (

    -- Left join: a loan whose borrower's batch has not passed yet keeps its row, with no segment or region.
    select
        loans.loan_id,
        loans.borrower_id,
        loans.product,
        borrowers.segment,
        borrowers.region,
        borrowers.institution_id,
        loans.origination_date,
        loans.principal_amount,
        loans.interest_rate_pct,
        loans.term_months

    from loans

    left join borrowers
        on loans.borrower_id = borrowers.borrower_id

)

select * from loans_joined_to_borrowers
