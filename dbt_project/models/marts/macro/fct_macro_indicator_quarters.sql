with

ratios as (

    select * from {{ ref('fct_credit_to_gdp_quarters') }}

),

pivoted as (

    select * from {{ ref('int_macro_series_pivoted') }}

),

quarters as (

    select
        ratios.economy_quarter_key,
        ratios.economy_code,
        ratios.period_end_date,
        cast(extract(year from ratios.period_end_date) * 4 + extract(quarter from ratios.period_end_date) as integer)
            as quarter_index,
        ratios.credit_amount,
        ratios.credit_to_gdp_pct,
        ratios.published_date as ratio_published_date,
        pivoted.house_price_index,
        pivoted.debt_service_ratio_pct,
        pivoted.credit_loaded_business_date,
        pivoted.house_price_loaded_business_date,
        pivoted.debt_service_loaded_business_date

    from ratios

    inner join pivoted
        on ratios.economy_quarter_key = pivoted.economy_quarter_key

),

with_year_ago as (

    -- The same quarter a year earlier, by quarter number: a missing quarter leaves the change null.
    select
        quarters.*,
        year_ago.credit_amount as credit_year_ago_amount,
        year_ago.credit_to_gdp_pct as credit_to_gdp_year_ago_pct,
        year_ago.house_price_index as house_price_year_ago_index,
        year_ago.credit_loaded_business_date as credit_year_ago_loaded_business_date,
        year_ago.house_price_loaded_business_date as house_price_year_ago_loaded_business_date,
        year_ago.ratio_published_date as ratio_year_ago_published_date

    from quarters

    left join quarters as year_ago
        on quarters.economy_code = year_ago.economy_code
        and quarters.quarter_index - 4 = year_ago.quarter_index

),

final as (

    select
        economy_quarter_key,
        economy_code,
        period_end_date,
        credit_to_gdp_pct,
        credit_to_gdp_pct - credit_to_gdp_year_ago_pct as credit_to_gdp_change_4q_pp,
        case
            when credit_year_ago_amount > 0
                then (cast(credit_amount as double precision) / cast(credit_year_ago_amount as double precision) - 1)
                    * 100
        end as credit_growth_yoy_pct,
        cast(house_price_index as double precision) as house_price_index,
        case
            when house_price_year_ago_index > 0
                then (cast(house_price_index as double precision)
                    / cast(house_price_year_ago_index as double precision) - 1) * 100
        end as house_price_growth_yoy_pct,
        cast(debt_service_ratio_pct as double precision) as debt_service_ratio_pct,
        -- When every figure of the row was known (greatest() skips the nulls of missing series).
        greatest(
            ratio_published_date,
            ratio_year_ago_published_date,
            credit_year_ago_loaded_business_date,
            house_price_loaded_business_date,
            house_price_year_ago_loaded_business_date,
            debt_service_loaded_business_date
        ) as published_date

    from with_year_ago

)

select * from final
