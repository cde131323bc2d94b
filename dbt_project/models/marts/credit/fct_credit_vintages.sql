{#-
    Incremental (macros/incremental_batches.sql): a run recomputes the vintage cells (origination month, months on
    book) that int_loan_days_aggregated_to_months_on_book changed, carries the vintage's other cells as stored,
    and rewrites the vintage (the cumulative default count runs over all its cells); a correction recomputes every
    vintage.
-#}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_keys',
    unique_key=['origination_month_start_date'],
    batch_sources=['loan_performance', 'repayments', 'loans', 'borrowers'],
    batches_from='fct_loan_days',
    on_schema_change='fail',
) }}

with

loan_months_on_book as (

    -- A loan whose borrower has not passed the gate yet counts as 'unknown' (and in 'all').
    select
        origination_month_start_date,
        months_on_book,
        coalesce(segment, 'unknown') as segment,
        principal_amount,
        balance_amount,
        first_performance_date,
        last_performance_date,
        is_first_observed,
        is_first_default

    from {{ ref('int_loan_days_aggregated_to_months_on_book') }}

),

{% if is_incremental() %}

changed_cells as (

    -- The cells the spells rebuilt by this run belong to (all of them for a correction).
    select distinct
        origination_month_start_date,
        months_on_book

    from loan_months_on_book

    where {{ from_planned_start('last_performance_date') }} or {{ is_correction() }}

),

cell_loans as (

    select loan_months_on_book.*

    from loan_months_on_book

    inner join changed_cells
        on
            loan_months_on_book.origination_month_start_date = changed_cells.origination_month_start_date
            and loan_months_on_book.months_on_book = changed_cells.months_on_book

),

{% else %}

cell_loans as (

    select * from loan_months_on_book

),

{% endif %}

cells as (

    select
        origination_month_start_date,
        case when grouping(segment) = 1 then 'all' else segment end as segment,
        months_on_book,
        cast(count(*) as integer) as loans_count,
        cast(count(*) filter (where is_first_default) as integer) as new_defaulted_loans_count,
        sum(balance_amount) as balance_amount

    from cell_loans

    group by grouping sets (
        (origination_month_start_date, segment, months_on_book),
        (origination_month_start_date, months_on_book)
    )

),

{% if is_incremental() %}

first_observed as (

    -- Loans first seen in the spells this run rebuilt: they join their vintage's count (all loans on a correction).
    select *

    from loan_months_on_book

    where is_first_observed and ({{ from_planned_start('first_performance_date') }} or {{ is_correction() }})

),

stored as (

    select * from {{ this }}

    where
        origination_month_start_date in (select cells.origination_month_start_date from cells)
        and not {{ is_correction() }}

),

new_vintage_loans as (

    select
        origination_month_start_date,
        case when grouping(segment) = 1 then 'all' else segment end as segment,
        cast(count(*) as integer) as vintage_loans_count,
        sum(principal_amount) as originated_principal_amount

    from first_observed

    group by grouping sets ((origination_month_start_date, segment), (origination_month_start_date))

),

vintage_loans as (

    select
        coalesce(new.origination_month_start_date, earlier.origination_month_start_date)
            as origination_month_start_date,
        coalesce(new.segment, earlier.segment) as segment,
        coalesce(earlier.vintage_loans_count, 0) + coalesce(new.vintage_loans_count, 0) as vintage_loans_count,
        coalesce(earlier.originated_principal_amount, 0) + coalesce(new.originated_principal_amount, 0)
            as originated_principal_amount

    from new_vintage_loans as new

    full outer join (
        select distinct origination_month_start_date, segment, vintage_loans_count, originated_principal_amount
        from stored
    ) as earlier
        on
            new.origination_month_start_date = earlier.origination_month_start_date
            and new.segment = earlier.segment

),

all_cells as (

    select * from cells

    union all

    select
        stored.origination_month_start_date,
        stored.segment,
        stored.months_on_book,
        stored.loans_count,
        stored.new_defaulted_loans_count,
        stored.balance_amount

    from stored

    where not exists (
        select from cells
        where
            cells.origination_month_start_date = stored.origination_month_start_date
            and cells.segment = stored.segment
            and cells.months_on_book = stored.months_on_book
    )

),

{% else %}

vintage_loans as (

    -- The vintage as the book shows it: its loans with at least one row in fct_loan_days.
    select
        origination_month_start_date,
        case when grouping(segment) = 1 then 'all' else segment end as segment,
        cast(count(*) as integer) as vintage_loans_count,
        sum(principal_amount) as originated_principal_amount

    from loan_months_on_book

    where is_first_observed

    group by grouping sets ((origination_month_start_date, segment), (origination_month_start_date))

),

all_cells as (

    select * from cells

),

{% endif %}

final as (

    select
        {{ surrogate_key([
            'all_cells.origination_month_start_date',
            'all_cells.segment',
            'all_cells.months_on_book'
        ]) }} as vintage_key,
        all_cells.origination_month_start_date,
        all_cells.segment,
        all_cells.months_on_book,
        all_cells.loans_count,
        vintage_loans.vintage_loans_count,
        vintage_loans.originated_principal_amount,
        all_cells.new_defaulted_loans_count,
        cast(sum(all_cells.new_defaulted_loans_count) over by_vintage as integer) as defaulted_loans_count,
        cast(sum(all_cells.new_defaulted_loans_count) over by_vintage as double precision)
        / cast(vintage_loans.vintage_loans_count as double precision) * 100 as cumulative_default_rate_pct,
        all_cells.balance_amount

    from all_cells

    inner join vintage_loans
        on
            all_cells.origination_month_start_date = vintage_loans.origination_month_start_date
            and all_cells.segment = vintage_loans.segment

    window by_vintage as (
        partition by all_cells.origination_month_start_date, all_cells.segment
        order by all_cells.months_on_book
        rows between unbounded preceding and current row
    )

)

select * from final
