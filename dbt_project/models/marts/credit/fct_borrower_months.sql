{#-
    Incremental: the months from the earliest month fct_loan_days rebuilt on, from their loan days; the missed
    payment streak continues from the month before, as stored (macros/incremental_batches.sql).
-#}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_dates',
    batch_sources=['loan_performance', 'repayments', 'loans', 'borrowers'],
    batches_from='fct_loan_days',
    date_column='month_start_date',
    date_grain='month',
    rebuild='from_earliest',
    on_schema_change='fail',
) }}

with

loan_days as (

    select * from {{ ref('fct_loan_days') }}
    {% if is_incremental() -%}
    where {{ from_planned_start('performance_date') }}
    {%- endif %}

),

repayments as (

    select * from {{ ref('int_repayments_aggregated_to_loan_days') }}
    {% if is_incremental() -%}
    where {{ from_planned_start('due_date') }}
    {%- endif %}

),

months as (

    select * from {{ ref('int_performance_dates_aggregated_to_months') }}
    {% if is_incremental() -%}
    where {{ from_planned_start('month_start_date') }}
    {%- endif %}

),

loan_days_in_months as (

    -- One pass over the loan days: each row knows its month and whether it is the month's last business date.
    -- Instalments join on the loan-day key, so only days present in fct_loan_days count (as due and paid do).
    select
        loan_days.loan_id,
        loan_days.borrower_id,
        coalesce(loan_days.segment, 'unknown') as segment,
        loan_days.institution_id,
        months.month_start_date,
        months.month_end_date,
        loan_days.performance_date = months.month_end_date as is_month_end,
        loan_days.balance_amount,
        loan_days.principal_amount,
        loan_days.days_past_due,
        loan_days.is_default,
        loan_days.due_amount,
        loan_days.paid_amount,
        coalesce(repayments.missed_instalments_count, 0) as missed_instalments_count,
        loan_days.months_on_book

    from loan_days

    inner join months
        on cast(date_trunc('month', loan_days.performance_date) as date) = months.month_start_date

    left join repayments
        on loan_days.loan_day_key = repayments.loan_day_key

),

aggregated_to_borrower_months as (

    -- The month-end state (filter is_month_end) and the whole month's activity in the same aggregate.
    select
        borrower_id,
        month_start_date,
        month_end_date,
        max(segment) as segment,
        max(institution_id) as institution_id,
        cast(count(*) filter (where is_month_end) as integer) as loans_count,
        coalesce(sum(balance_amount) filter (where is_month_end), 0) as balance_amount,
        coalesce(sum(principal_amount) filter (where is_month_end), 0) as principal_amount,
        max(days_past_due) filter (where is_month_end) as max_days_past_due,
        max(days_past_due) as max_days_past_due_in_month,
        sum(due_amount) as due_amount,
        sum(paid_amount) as paid_amount,
        cast(sum(missed_instalments_count) as integer) as missed_payments_count,
        max(months_on_book) as months_on_book,
        coalesce(bool_or(is_default) filter (where is_month_end), false) as is_default

    from loan_days_in_months

    group by
        borrower_id,
        month_start_date,
        month_end_date

),

with_previous_month as (

    select
        *,
        cast(null as integer) as stored_streak_months,
        false as is_stored

    from aggregated_to_borrower_months
    {% if is_incremental() %}
    union all
    -- the stored month before the rebuilt ones: a streak running into them goes on from its count
    select
        borrower_id,
        month_start_date,
        month_end_date,
        segment,
        institution_id,
        loans_count,
        balance_amount,
        principal_amount,
        max_days_past_due,
        max_days_past_due_in_month,
        due_amount,
        paid_amount,
        missed_payments_count,
        months_on_book,
        is_default,
        missed_payment_streak_months as stored_streak_months,
        true as is_stored

    from {{ this }}

    where month_start_date = cast({{ planned_start() }} - interval '1 month' as date)
    {% endif %}

),

missed_payment_islands as (

    -- Gaps and islands: consecutive calendar months with a missed instalment share month_index - row_number.
    select
        *,
        cast(extract(year from month_start_date) * 12 + extract(month from month_start_date) as integer)
        - row_number() over (
            partition by borrower_id, missed_payments_count > 0
            order by month_start_date
        ) as missed_payment_island

    from with_previous_month

),

final as (

    select
        {{ surrogate_key(['borrower_id', 'month_start_date']) }} as borrower_month_key,
        borrower_id,
        month_start_date,
        month_end_date,
        segment,
        institution_id,
        loans_count,
        balance_amount,
        principal_amount,
        case
            when principal_amount > 0
                then cast(balance_amount as double precision) / cast(principal_amount as double precision) * 100
        end as utilisation_pct,
        max_days_past_due,
        max_days_past_due_in_month,
        due_amount,
        paid_amount,
        case
            when due_amount > 0
                then cast(paid_amount as double precision) / cast(due_amount as double precision) * 100
        end as payment_to_due_pct,
        missed_payments_count,
        case
            when missed_payments_count > 0
                then cast(
                    coalesce(first_value(stored_streak_months) over by_island, 1)
                    + row_number() over by_island - 1 as integer
                )
            else 0
        end as missed_payment_streak_months,
        months_on_book,
        is_default,
        is_stored

    from missed_payment_islands

    window by_island as (
        partition by borrower_id, missed_payments_count > 0, missed_payment_island
        order by month_start_date
    )

)

select
    borrower_month_key,
    borrower_id,
    month_start_date,
    month_end_date,
    segment,
    institution_id,
    loans_count,
    balance_amount,
    principal_amount,
    utilisation_pct,
    max_days_past_due,
    max_days_past_due_in_month,
    due_amount,
    paid_amount,
    payment_to_due_pct,
    missed_payments_count,
    missed_payment_streak_months,
    months_on_book,
    is_default

from final

where not is_stored
