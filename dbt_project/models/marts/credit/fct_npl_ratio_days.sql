{#-
    Incremental: the aggregates of the business dates fct_loan_days rebuilt, and the other days of their months
    carried from the table itself (is_month_end moves to the month's newest date); see
    macros/incremental_batches.sql.
-#}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_dates',
    batch_sources=['loan_performance', 'repayments', 'loans', 'borrowers'],
    batches_from='fct_loan_days',
    date_column='performance_date',
    date_grain='month',
    rebuild='from_earliest',
    on_schema_change='fail',
) }}

with

loan_days as (

    select * from {{ ref('fct_loan_days') }}
    {% if is_incremental() -%}
    where performance_date = any(array{{ planned_dates(grain='day') }})
    {%- endif %}

),

months as (

    select * from {{ ref('int_performance_dates_aggregated_to_months') }}

),

segmented_loan_days as (

    -- A loan whose borrower has not passed the gate yet has no segment: it counts as 'unknown' (and in 'all').
    select
        performance_date,
        coalesce(segment, 'unknown') as segment,
        delinquency_bucket,
        is_default,
        balance_amount

    from loan_days

),

segment_days as (

    -- Per segment, and for the whole book (segment 'all') in the same pass.
    select
        performance_date,
        case when grouping(segment) = 1 then 'all' else segment end as segment,
        cast(count(*) as integer) as loans_count,
        sum(balance_amount) as balance_amount,
        cast(count(*) filter (where is_default) as integer) as npl_loans_count,
        coalesce(sum(balance_amount) filter (where is_default), 0) as npl_balance_amount,
        coalesce(sum(balance_amount) filter (where delinquency_bucket = 'current'), 0) as current_balance_amount,
        coalesce(sum(balance_amount) filter (where delinquency_bucket = '1-29'), 0) as dpd_1_29_balance_amount,
        coalesce(sum(balance_amount) filter (where delinquency_bucket = '30-59'), 0) as dpd_30_59_balance_amount,
        coalesce(sum(balance_amount) filter (where delinquency_bucket = '60-89'), 0) as dpd_60_89_balance_amount,
        coalesce(sum(balance_amount) filter (where delinquency_bucket = '90+'), 0) as dpd_90_plus_balance_amount

    from segmented_loan_days

    group by grouping sets (
        (performance_date, segment),
        (performance_date)
    )

),

all_days as (

    select * from segment_days
    {% if is_incremental() %}
    union all
    -- the other days of the rebuilt months, as they are
    select
        performance_date,
        segment,
        loans_count,
        balance_amount,
        npl_loans_count,
        npl_balance_amount,
        current_balance_amount,
        dpd_1_29_balance_amount,
        dpd_30_59_balance_amount,
        dpd_60_89_balance_amount,
        dpd_90_plus_balance_amount
    from {{ this }}
    where
        {{ from_planned_start('performance_date') }}
        and performance_date not in {{ planned_dates(grain='day') }}
    {% endif %}

),

final as (

    select
        {{ surrogate_key(['segment_days.performance_date', 'segment_days.segment']) }} as npl_day_key,
        segment_days.performance_date,
        segment_days.segment,
        segment_days.performance_date = months.month_end_date as is_month_end,
        segment_days.loans_count,
        segment_days.balance_amount,
        segment_days.npl_loans_count,
        segment_days.npl_balance_amount,
        case
            when segment_days.balance_amount > 0
                then cast(segment_days.npl_balance_amount as double precision)
                / cast(segment_days.balance_amount as double precision) * 100
        end as npl_ratio_pct,
        segment_days.current_balance_amount,
        segment_days.dpd_1_29_balance_amount,
        segment_days.dpd_30_59_balance_amount,
        segment_days.dpd_60_89_balance_amount,
        segment_days.dpd_90_plus_balance_amount

    from all_days as segment_days

    inner join months
        on cast(date_trunc('month', segment_days.performance_date) as date) = months.month_start_date

)

select * from final
