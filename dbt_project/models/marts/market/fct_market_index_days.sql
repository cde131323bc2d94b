with

returns as (

    select * from {{ ref('int_market_returns_computed') }}

),

aggregated_to_days as (

    -- Equal weight: every instrument with a return that day counts once; avg() skips first days (null).
    select
        price_date,
        cast(count(*) as integer) as instruments_count,
        cast(count(log_return) as integer) as returns_count,
        avg(log_return) as index_log_return

    from returns

    group by price_date

),

cumulated as (

    select
        price_date,
        instruments_count,
        returns_count,
        index_log_return,
        {{ var('index_base_level') }} * exp(
            sum(coalesce(index_log_return, 0)) over (
                order by price_date
                rows between unbounded preceding and current row
            )
        ) as index_level

    from aggregated_to_days

)

select * from cumulated
