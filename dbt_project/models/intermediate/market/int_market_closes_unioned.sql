with

daily_prices as (

    select * from {{ ref('stg_market__prices') }}

),

price_history as (

    select * from {{ ref('stg_market__price_history') }}

),

unioned as (

    select
        instrument_day_key,
        instrument_id,
        price_date,
        close_price,
        'daily' as close_source

    from daily_prices

    union all

    -- A history close only fills a day the daily files do not cover: the daily close wins.
    select
        price_history.instrument_day_key,
        price_history.instrument_id,
        price_history.price_date,
        price_history.close_price,
        'history' as close_source

    from price_history

    left join daily_prices
        on price_history.instrument_day_key = daily_prices.instrument_day_key

    where daily_prices.instrument_day_key is null

)

select * from unioned
