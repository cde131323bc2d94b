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

    select
        instrument_day_key,
        instrument_id,
        price_date,
        close_price,
        'history' as close_source

    from price_history

),

daily_first as (

    -- A history close only fills a day the daily files do not cover: the daily close wins. One sort of the
    -- closes, not an anti-join of the history to the daily closes: the planner takes a staging view's rows for a
    -- fraction of them (its join to audit.batches is estimated over every source's batches), and after 3 years
    -- it ran that anti-join as a nested loop of 15,600 x 23,220 rows (36 s, each time a model or test read it).
    select distinct on (instrument_id, price_date)
        instrument_day_key,
        instrument_id,
        price_date,
        close_price,
        close_source

    from unioned

    order by instrument_id, price_date, close_source = 'history'

)

select * from daily_first
