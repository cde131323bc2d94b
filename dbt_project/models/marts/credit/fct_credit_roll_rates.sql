{#-
    Incremental: the roll months from the earliest month fct_loan_days rebuilt on (the latest month's matrix moves
    with each new business date); see macros/incremental_batches.sql.
-#}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_dates',
    batch_sources=['loan_performance', 'repayments', 'loans', 'borrowers'],
    batches_from='fct_loan_days',
    date_column='roll_month_start_date',
    date_grain='month',
    rebuild='from_earliest',
    on_schema_change='fail',
) }}

with

loan_days as (

    select * from {{ ref('fct_loan_days') }}
    {% if is_incremental() -%}
    -- only the month ends read below, by the date's index (the join to months alone read every loan day)
    where performance_date = any(array(
        select month_end_date from {{ ref('int_performance_dates_aggregated_to_months') }}
        where month_start_date >= cast({{ planned_start() }} - interval '1 month' as date)
    ))
    {%- endif %}

),

months as (

    select * from {{ ref('int_performance_dates_aggregated_to_months') }}
    {% if is_incremental() -%}
    -- the rebuilt months and the one before (their "from" month ends)
    where month_start_date >= cast({{ planned_start() }} - interval '1 month' as date)
    {%- endif %}

),

month_end_loans as (

    -- Only the month-end rows: one row per loan per month it is on the book at its last business date.
    select
        loan_days.loan_id,
        months.month_start_date,
        coalesce(loan_days.segment, 'unknown') as segment,
        loan_days.delinquency_bucket,
        loan_days.balance_amount

    from loan_days

    inner join months
        on loan_days.performance_date = months.month_end_date

),

roll_months as (

    -- A month rolls from the previous calendar month's last business date; the first month of data does not.
    select
        month_start_date as roll_month_start_date,
        cast(month_start_date - interval '1 month' as date) as from_month_start_date

    from months

    where
        previous_month_end_date is not null
        {% if is_incremental() -%}
        and month_start_date >= {{ planned_start() }}
        {%- endif %}

),

loan_rolls as (

    -- Every loan on the book at the previous month-end, where it is at this month-end (closed when it has no
    -- row). A loan new this month has no "from" row and stays out.
    select
        roll_months.roll_month_start_date,
        from_loans.loan_id,
        from_loans.segment,
        from_loans.delinquency_bucket as from_bucket,
        coalesce(to_loans.delinquency_bucket, 'closed') as to_bucket,
        from_loans.balance_amount as from_balance_amount,
        coalesce(to_loans.balance_amount, 0) as to_balance_amount

    from roll_months

    inner join month_end_loans as from_loans
        on roll_months.from_month_start_date = from_loans.month_start_date

    left join month_end_loans as to_loans
        on
            from_loans.loan_id = to_loans.loan_id
            and roll_months.roll_month_start_date = to_loans.month_start_date

),

transitions as (

    -- Per segment, and for the whole book (segment 'all') in the same pass.
    select
        roll_month_start_date,
        case when grouping(segment) = 1 then 'all' else segment end as segment,
        from_bucket,
        to_bucket,
        cast(count(*) as integer) as loans_count,
        sum(from_balance_amount) as from_balance_amount,
        sum(to_balance_amount) as to_balance_amount

    from loan_rolls

    group by grouping sets (
        (roll_month_start_date, segment, from_bucket, to_bucket),
        (roll_month_start_date, from_bucket, to_bucket)
    )

),

from_buckets as (

    select
        roll_month_start_date,
        segment,
        from_bucket,
        sum(loans_count) as from_loans_count,
        sum(from_balance_amount) as from_bucket_balance_amount

    from transitions

    group by
        roll_month_start_date,
        segment,
        from_bucket

),

to_buckets as (

    {% for bucket in delinquency_bucket_names() + ['closed'] %}
    select '{{ bucket }}' as to_bucket
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

matrix_cells as (

    -- Every "to" state for every "from" bucket on the book: a transition nobody made is a row with 0.
    select
        from_buckets.*,
        to_buckets.to_bucket

    from from_buckets

    cross join to_buckets

),

final as (

    select
        {{ surrogate_key([
            'matrix_cells.roll_month_start_date',
            'matrix_cells.segment',
            'matrix_cells.from_bucket',
            'matrix_cells.to_bucket'
        ]) }} as roll_key,
        matrix_cells.roll_month_start_date,
        matrix_cells.segment,
        matrix_cells.from_bucket,
        matrix_cells.to_bucket,
        coalesce(transitions.loans_count, 0) as loans_count,
        coalesce(transitions.from_balance_amount, 0) as from_balance_amount,
        coalesce(transitions.to_balance_amount, 0) as to_balance_amount,
        cast(coalesce(transitions.loans_count, 0) as double precision)
        / cast(matrix_cells.from_loans_count as double precision) * 100 as roll_rate_pct,
        case
            when matrix_cells.from_bucket_balance_amount > 0
                then cast(coalesce(transitions.from_balance_amount, 0) as double precision)
                / cast(matrix_cells.from_bucket_balance_amount as double precision) * 100
        end as balance_roll_rate_pct

    from matrix_cells

    left join transitions
        on
            matrix_cells.roll_month_start_date = transitions.roll_month_start_date
            and matrix_cells.segment = transitions.segment
            and matrix_cells.from_bucket = transitions.from_bucket
            and matrix_cells.to_bucket = transitions.to_bucket

)

select * from final
