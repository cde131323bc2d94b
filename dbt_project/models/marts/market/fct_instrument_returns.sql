{#-
    Incremental (macros/incremental_batches.sql): a run rebuilds every trading day from the earliest daily close
    that passed (or was superseded) since the last one, and every day after a price history delivery
    (full_rebuild_sources). Its rolling windows run over the rebuilt days and the 251 rows of each instrument
    before them, so a day costs the windows of a year, not of the whole price history.
-#}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_dates',
    batch_sources=['market_prices', 'market_price_history'],
    full_rebuild_sources=['market_price_history'],
    date_column='price_date',
    rebuild='from_earliest',
    on_schema_change='fail',
) }}

with

returns as (

    select
        *,
        row_number() over (partition by instrument_id order by price_date) as instrument_row_number

    from {{ ref('int_market_returns_computed') }}

),

{% if is_incremental() %}
first_rebuilt as (

    select
        instrument_id,
        min(instrument_row_number) as first_row_number

    from returns

    where {{ from_planned_start('price_date') }}

    group by instrument_id

),

window_rows as (

    -- The rebuilt rows and the 251 before them: the longest window (252 rows) of the first rebuilt row.
    select returns.*

    from returns

    inner join first_rebuilt
        on
            returns.instrument_id = first_rebuilt.instrument_id
            and returns.instrument_row_number >= first_rebuilt.first_row_number - 251

),
{% endif %}

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

    from {% if is_incremental() %}window_rows{% else %}returns{% endif %}

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

    {% if is_incremental() -%}
    where {{ from_planned_start('price_date') }}
    {%- endif %}

)

select * from final
