with

repayments as (

    select * from {{ ref('stg_core__repayments') }}

),

aggregated_to_loan_days as (

    select
        {{ surrogate_key(['loan_id', 'due_date']) }} as loan_day_key,
        loan_id,
        due_date,
        cast(count(*) as integer) as instalments_count,
        sum(due_amount) as due_amount,
        sum(paid_amount) as paid_amount,
        -- An instalment paid short on its due date (0 paid, or only part of it) counts as missed.
        cast(count(*) filter (where paid_amount < due_amount) as integer) as missed_instalments_count

    from repayments

    group by
        loan_id,
        due_date

)

select * from aggregated_to_loan_days
