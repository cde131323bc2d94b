with

returns as (

    select * from {{ ref('int_market_returns_computed') }}

),

final as (

    select
        instrument_day_key,
        instrument_id,
        price_date,
        close_price,
        previous_price_date,
        log_return,
        simple_return

    from returns

)

select * from final
