with

returns as (

    select * from {{ ref('int_market_returns_computed') }}

),

rolling as (

    -- Windows count trading days (rows of the instrument), not calendar days.
    select
        *,
        stddev_samp(log_return) over last_20 as volatility_20d,
        count(log_return) over last_20 as returns_20d_count,
        stddev_samp(log_return) over last_60 as volatility_60d,
        count(log_return) over last_60 as returns_60d_count,
        avg(log_return) over last_20 as mean_return_20d,
        max(close_price) over last_252 as peak_close_252d

    from returns

    window
        last_20 as (partition by instrument_id order by price_date rows between 19 preceding and current row),
        last_60 as (partition by instrument_id order by price_date rows between 59 preceding and current row),
        last_252 as (partition by instrument_id order by price_date rows between 251 preceding and current row)

),

final as (

    select
        instrument_day_key,
        instrument_id,
        price_date,
        close_price,
        close_source,
        previous_price_date,
        cast(trading_days_skipped as integer) as trading_days_skipped,
        is_contract_trading_day,
        log_return,
        simple_return,
        case when returns_20d_count = 20 then volatility_20d * 100 end as volatility_20d_pct,
        case when returns_60d_count = 60 then volatility_60d * 100 end as volatility_60d_pct,
        case when returns_20d_count = 20 then mean_return_20d * 100 end as mean_log_return_20d_pct,
        cast(peak_close_252d as numeric) as peak_close_252d,
        (cast(close_price as double precision) / cast(peak_close_252d as double precision) - 1) * 100
            as drawdown_252d_pct

    from rolling

)

select * from final
