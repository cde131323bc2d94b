with

closes as (

    select * from {{ ref('int_market_closes_unioned') }}

),

spine as (

    select cast(day as date) as calendar_date

    from generate_series(
        (select min(price_date) from closes),
        (select max(price_date) from closes),
        interval '1 day'
    ) as day

),

flagged as (

    select
        calendar_date,
        {{ is_trading_day('calendar_date') }} as is_trading_day

    from spine

),

numbered as (

    -- The contract's trading days numbered in order: the difference of two numbers counts the trading days
    -- between two dates.
    select
        calendar_date,
        is_trading_day,
        cast(count(*) filter (where is_trading_day) over (
            order by calendar_date
            rows between unbounded preceding and current row
        ) as integer) as trading_day_number

    from flagged

)

select * from numbered
