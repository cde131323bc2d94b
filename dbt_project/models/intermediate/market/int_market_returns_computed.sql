with

closes as (

    select * from {{ ref('int_market_closes_unioned') }}

),

calendar as (

    select * from {{ ref('int_trading_calendar') }}

),

previous_prices as (

    -- The previous trading day is the previous row of the same instrument.
    select
        instrument_day_key,
        instrument_id,
        price_date,
        close_price,
        close_source,
        lag(price_date) over by_instrument as previous_price_date,
        lag(close_price) over by_instrument as previous_close_price

    from closes

    window by_instrument as (
        partition by instrument_id
        order by price_date
    )

),

returns_computed as (

    select
        previous_prices.instrument_day_key,
        previous_prices.instrument_id,
        previous_prices.price_date,
        previous_prices.close_price,
        previous_prices.close_source,
        previous_prices.previous_price_date,
        previous_prices.previous_close_price,
        case
            when previous_prices.close_price > 0 and previous_prices.previous_close_price > 0
                then ln(
                    cast(previous_prices.close_price as double precision)
                    / cast(previous_prices.previous_close_price as double precision)
                )
        end as log_return,
        case
            when previous_prices.previous_close_price > 0
                then cast(previous_prices.close_price as double precision)
                    / cast(previous_prices.previous_close_price as double precision) - 1
        end as simple_return,
        today.is_trading_day as is_contract_trading_day,
        -- contract trading days with no close between the previous close and this one
        case
            when previous_prices.previous_price_date is not null
                then today.trading_day_number - previous_day.trading_day_number
                    - case when today.is_trading_day then 1 else 0 end
        end as trading_days_skipped

    from previous_prices

    inner join calendar as today
        on previous_prices.price_date = today.calendar_date

    left join calendar as previous_day
        on previous_prices.previous_price_date = previous_day.calendar_date

)

select * from returns_computed
