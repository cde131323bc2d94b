with

loans as (

    select * from {{ ref('int_loans_joined_to_borrowers') }}

),

final as (

    select
        loan_id,
        borrower_id,
        product,
        segment,
        region,
        institution_id,
        origination_date,
        principal_amount,
        interest_rate_pct,
        term_months

    from loans

)

select * from final
