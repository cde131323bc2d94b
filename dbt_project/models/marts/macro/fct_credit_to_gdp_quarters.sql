with

pivoted as (

    select * from {{ ref('int_macro_series_pivoted') }}

),

quarters as (

    select
        *,
        cast(extract(year from period_end_date) * 4 + extract(quarter from period_end_date) as integer)
            as quarter_index

    from pivoted

),

last_four_quarters as (

    -- A range frame on the quarter number: a missing quarter leaves fewer than 4 GDP figures, not a wider window.
    select
        *,
        sum(gdp_amount) over last_4 as gdp_window_amount,
        count(gdp_amount) over last_4 as gdp_window_quarters_count,
        max(gdp_loaded_business_date) over last_4 as gdp_window_loaded_business_date

    from quarters

    window last_4 as (
        partition by economy_code
        order by quarter_index
        range between 3 preceding and current row
    )

),

ratios as (

    select
        economy_quarter_key,
        economy_code,
        period_end_date,
        credit_amount,
        gdp_amount,
        case when gdp_window_quarters_count = 4 then gdp_window_amount end as gdp_4q_amount,
        credit_loaded_business_date,
        gdp_window_loaded_business_date

    from last_four_quarters

),

final as (

    select
        economy_quarter_key,
        economy_code,
        period_end_date,
        credit_amount,
        gdp_amount,
        gdp_4q_amount,
        case
            when gdp_4q_amount > 0
                then cast(credit_amount as double precision) / cast(gdp_4q_amount as double precision) * 100
        end as credit_to_gdp_pct,
        -- When the figure became known: the later publication of the credit stock and the 4 GDP quarters.
        greatest(credit_loaded_business_date, gdp_window_loaded_business_date) as published_date

    from ratios

)

select * from final
