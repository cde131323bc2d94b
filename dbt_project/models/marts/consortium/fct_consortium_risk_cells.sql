-- Credit risk by region, segment and worst delinquency bucket, published only where at least k borrowers stand
-- behind a cell. The borrower-level signals give every bucket's total, so a single suppressed cell could be
-- recovered by subtracting the published cells of its bucket: when a bucket's suppressed cells hold fewer than k
-- borrowers together, its smallest published cell is suppressed too (complementary suppression). A bucket's
-- suppressed cells are then rolled up into one row, published when it holds at least k borrowers (it is that
-- bucket's total minus its published cells, which a reader could compute anyway). Suppressed and empty cells are
-- both absent, so an absent cell says nothing about its size.
with

consortium_borrowers as (

    select * from {{ ref('int_loan_days_aggregated_to_consortium_borrowers') }}

),

parameters as (

    select {{ consortium_min_cell_borrowers() }} as min_cell_borrowers

),

cells as (

    select
        as_of_date,
        coalesce(region, 'unknown') as region,
        coalesce(segment, 'unknown') as segment,
        delinquency_bucket,
        cast(count(*) as integer) as borrowers_count,
        cast(sum(loans_count) as integer) as loans_count,
        sum(balance_amount) as balance_amount,
        sum(principal_amount) as principal_amount

    from consortium_borrowers

    group by
        as_of_date,
        coalesce(region, 'unknown'),
        coalesce(segment, 'unknown'),
        delinquency_bucket

),

primary_suppression as (

    select
        cells.*,
        parameters.min_cell_borrowers,
        cells.borrowers_count < parameters.min_cell_borrowers as is_below_threshold

    from cells

    cross join parameters

),

bucket_pools as (

    -- Per bucket: borrowers in cells below the threshold, and each cell's size rank among the cells at or above it.
    select
        *,
        coalesce(
            sum(borrowers_count) filter (where is_below_threshold) over (partition by delinquency_bucket), 0
        ) as bucket_suppressed_borrowers_count,
        row_number() over (
            partition by delinquency_bucket, is_below_threshold
            order by borrowers_count, region, segment
        ) as size_rank

    from primary_suppression

),

complementary_suppression as (

    select
        *,
        is_below_threshold
        or (
            size_rank = 1
            and bucket_suppressed_borrowers_count > 0
            and bucket_suppressed_borrowers_count < min_cell_borrowers
        ) as is_suppressed

    from bucket_pools

),

published_cells as (

    select
        as_of_date,
        region,
        segment,
        delinquency_bucket,
        borrowers_count,
        loans_count,
        balance_amount,
        principal_amount,
        min_cell_borrowers,
        false as is_rolled_up

    from complementary_suppression

    where not is_suppressed

),

rolled_up_cells as (

    select
        as_of_date,
        '(rolled up)' as region,
        '(rolled up)' as segment,
        delinquency_bucket,
        cast(sum(borrowers_count) as integer) as borrowers_count,
        cast(sum(loans_count) as integer) as loans_count,
        sum(balance_amount) as balance_amount,
        sum(principal_amount) as principal_amount,
        min_cell_borrowers,
        true as is_rolled_up

    from complementary_suppression

    where is_suppressed

    group by
        as_of_date,
        delinquency_bucket,
        min_cell_borrowers

    having sum(borrowers_count) >= min_cell_borrowers

),

final as (

    select
        {{ surrogate_key(['region', 'segment', 'delinquency_bucket']) }} as cell_key,
        *

    from (

        select * from published_cells

        union all

        select * from rolled_up_cells

    ) as cells_published

)

select * from final
