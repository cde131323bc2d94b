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

),

rolling as (

    select
        *,
        stddev_samp(index_log_return) over last_20 as volatility_20d,
        count(index_log_return) over last_20 as returns_20d_count,
        max(index_level) over last_252 as peak_level_252d

    from cumulated

    window
        last_20 as (order by price_date rows between 19 preceding and current row),
        last_252 as (order by price_date rows between 251 preceding and current row)

),

final as (

    select
        price_date,
        instruments_count,
        returns_count,
        index_log_return,
        index_level,
        case when returns_20d_count = 20 then volatility_20d * 100 end as volatility_20d_pct,
        (index_level / peak_level_252d - 1) * 100 as drawdown_252d_pct

    from rolling

)

select * from final
