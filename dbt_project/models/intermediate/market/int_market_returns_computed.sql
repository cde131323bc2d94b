with

prices as (

    select * from {{ ref('stg_market__prices') }}

),

previous_prices as (

    -- The previous trading day is the previous row of the same instrument.
    select
        instrument_day_key,
        instrument_id,
        price_date,
        close_price,
        lag(price_date) over by_instrument as previous_price_date,
        lag(close_price) over by_instrument as previous_close_price

    from prices

    window by_instrument as (
        partition by instrument_id
        order by price_date
    )

),

returns_computed as (

    select
        instrument_day_key,
        instrument_id,
        price_date,
        close_price,
        previous_price_date,
        previous_close_price,
        case
            when close_price > 0 and previous_close_price > 0
                then ln(cast(close_price as double precision) / cast(previous_close_price as double precision))
        end as log_return,
        case
            when previous_close_price > 0
                then cast(close_price as double precision) / cast(previous_close_price as double precision) - 1
        end as simple_return

    from previous_prices

)

select * from returns_computed
