with

positions as (

    select * from {{ ref('fct_portfolio_positions') }}

),

closes as (

    select * from {{ ref('int_market_closes_unioned') }}

),

portfolio_days as (

    select
        portfolio_id,
        position_date,
        cast(count(*) as integer) as positions_count,
        cast(count(*) filter (where close_price is null) as integer) as unpriced_positions_count,
        sum(market_value_amount) as market_value_amount,
        sum(abs(market_value_amount)) as gross_exposure_amount

    from positions

    group by
        portfolio_id,
        position_date

),

sequenced as (

    select
        *,
        lag(position_date) over (partition by portfolio_id order by position_date) as previous_position_date

    from portfolio_days

),

previous_holdings_revalued as (

    -- Hypothetical P&L: the previous day's holdings, unchanged, from the previous close to today's close.
    select
        sequenced.portfolio_id,
        sequenced.position_date,
        sum(held.quantity * (today.close_price - held.close_price)) as pnl_amount,
        sum(abs(held.market_value_amount)) as previous_gross_exposure_amount,
        cast(count(*) filter (where today.close_price is null or held.close_price is null) as integer)
            as unpriced_holdings_count

    from sequenced

    inner join positions as held
        on sequenced.portfolio_id = held.portfolio_id
        and sequenced.previous_position_date = held.position_date

    left join closes as today
        on held.instrument_id = today.instrument_id
        and sequenced.position_date = today.price_date

    group by
        sequenced.portfolio_id,
        sequenced.position_date

),

final as (

    select
        {{ surrogate_key(['sequenced.portfolio_id', 'sequenced.position_date']) }} as portfolio_day_key,
        sequenced.portfolio_id,
        sequenced.position_date,
        sequenced.previous_position_date,
        sequenced.positions_count,
        sequenced.unpriced_positions_count,
        sequenced.market_value_amount,
        sequenced.gross_exposure_amount,
        revalued.previous_gross_exposure_amount,
        revalued.pnl_amount,
        revalued.unpriced_holdings_count,
        cast(revalued.pnl_amount / nullif(revalued.previous_gross_exposure_amount, 0) as double precision)
            as hypothetical_return

    from sequenced

    left join previous_holdings_revalued as revalued
        on sequenced.portfolio_id = revalued.portfolio_id
        and sequenced.position_date = revalued.position_date

)

select * from final
