{{ config(alias='borrowers') }}

-- The masked borrower view BI tools read: the person behind a borrower only as the bank's keyed pseudonym.
with

borrowers as (

    select * from {{ ref('dim_borrowers') }}

),

final as (

    select
        borrower_id,
        institution_id,
        person_key,
        person_borrower_ids_count,
        region,
        segment,
        birth_year,
        annual_income_amount,
        onboarded_date

    from borrowers

)

select * from final
