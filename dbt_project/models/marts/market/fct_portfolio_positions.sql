with

positions as (

    select * from {{ ref('stg_trading__positions') }}

),

closes as (

    select * from {{ ref('int_market_closes_unioned') }}

),

valued as (

    select
        positions.position_key,
        positions.portfolio_id,
        positions.instrument_id,
        positions.position_date,
        positions.quantity,
        closes.close_price,
        positions.quantity * closes.close_price as market_value_amount

    from positions

    left join closes
        on positions.instrument_id = closes.instrument_id
        and positions.position_date = closes.price_date

),

final as (

    select
        position_key,
        portfolio_id,
        instrument_id,
        position_date,
        quantity,
        close_price,
        market_value_amount,
        cast(
            abs(market_value_amount) / nullif(sum(abs(market_value_amount)) over by_portfolio_day, 0) * 100
            as double precision
        ) as gross_weight_pct

    from valued

    window by_portfolio_day as (partition by portfolio_id, position_date)

)

select * from final
