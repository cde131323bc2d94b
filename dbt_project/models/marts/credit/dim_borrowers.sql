-- Borrowers as the marts may carry them: no name, national id or birth date, but the bank's keyed pseudonym of
-- the person, so the borrower ids of one person (at several institutions of the group) can be linked.
with

borrowers as (

    select * from {{ ref('stg_core__borrowers') }}

),

pseudonyms as (

    select * from {{ ref('stg_core__borrower_pseudonyms') }}

),

joined as (

    select
        borrowers.borrower_id,
        borrowers.institution_id,
        pseudonyms.person_key,
        borrowers.region,
        borrowers.segment,
        borrowers.birth_year,
        borrowers.annual_income_amount,
        borrowers.onboarded_date

    from borrowers

    left join pseudonyms
        on borrowers.borrower_id = pseudonyms.borrower_id

),

final as (

    select
        *,
        case
            when person_key is null then 1
            else cast(count(*) over (partition by person_key) as integer)
        end as person_borrower_ids_count

    from joined

)

select * from final
