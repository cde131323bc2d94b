-- Matching across institutions: the loans of every borrower id that shares a consortium pseudonym add up to one
-- consortium borrower, on the latest business date of the marts.
with

loan_days as not materialized (

    -- not materialized: read twice below, a CTE would be computed in full, the whole history of loan days (3.1 s
    -- after 3 years at S); inlined, the latest date and its rows are index scans
    select * from {{ ref('fct_loan_days') }}

),

consortium_keys as (

    -- no consortium key set: no pseudonym, and the borrower is not shared
    select * from {{ ref('stg_core__borrower_pseudonyms') }}

    where consortium_borrower_key is not null

),

as_of as (

    select max(performance_date) as as_of_date

    from loan_days

),

latest_loan_days as (

    -- Inner join to the keys: a borrower without a pseudonym (no key set) is not shared.
    select
        consortium_keys.consortium_borrower_key,
        loan_days.performance_date as as_of_date,
        loan_days.borrower_id,
        loan_days.institution_id,
        loan_days.region,
        loan_days.segment,
        loan_days.balance_amount,
        loan_days.principal_amount,
        loan_days.days_past_due,
        loan_days.is_default

    from loan_days

    inner join as_of
        on loan_days.performance_date = as_of.as_of_date

    inner join consortium_keys
        on loan_days.borrower_id = consortium_keys.borrower_id

),

aggregated_to_consortium_borrowers as (

    -- Region and segment: the most frequent over the borrower's loans, the first alphabetically on a tie.
    select
        consortium_borrower_key,
        as_of_date,
        cast(count(distinct institution_id) as integer) as institutions_count,
        cast(count(distinct borrower_id) as integer) as borrower_ids_count,
        cast(count(*) as integer) as loans_count,
        mode() within group (order by region) as region,
        mode() within group (order by segment) as segment,
        sum(balance_amount) as balance_amount,
        sum(principal_amount) as principal_amount,
        max(days_past_due) as max_days_past_due,
        bool_or(is_default) as is_default,
        cast(count(distinct institution_id) filter (where days_past_due > 0) as integer)
            as past_due_institutions_count,
        cast(count(distinct institution_id) filter (where is_default) as integer) as defaulted_institutions_count

    from latest_loan_days

    group by
        consortium_borrower_key,
        as_of_date

),

final as (

    select
        *,
        {{ delinquency_bucket('max_days_past_due') }} as delinquency_bucket

    from aggregated_to_consortium_borrowers

)

select * from final
