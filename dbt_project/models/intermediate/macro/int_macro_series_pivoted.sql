{%- set credit_measure = var('credit_measure') -%}
{%- set gdp_measure = var('gdp_measure') -%}
{%- set house_price_measure = var('house_price_measure') -%}
{%- set debt_service_measure = var('debt_service_measure') -%}

with

series as (

    select * from {{ ref('stg_macro__series') }}

),

pivoted as (

    select
        {{ surrogate_key(['economy_code', 'period_end_date']) }} as economy_quarter_key,
        economy_code,
        period_end_date,
        max(case when measure = '{{ credit_measure }}' then value_amount end) as credit_amount,
        max(case when measure = '{{ gdp_measure }}' then value_amount end) as gdp_amount,
        max(case when measure = '{{ house_price_measure }}' then value_amount end) as house_price_index,
        max(case when measure = '{{ debt_service_measure }}' then value_amount end) as debt_service_ratio_pct,
        max(case when measure = '{{ credit_measure }}' then loaded_business_date end)
            as credit_loaded_business_date,
        max(case when measure = '{{ gdp_measure }}' then loaded_business_date end)
            as gdp_loaded_business_date,
        max(case when measure = '{{ house_price_measure }}' then loaded_business_date end)
            as house_price_loaded_business_date,
        max(case when measure = '{{ debt_service_measure }}' then loaded_business_date end)
            as debt_service_loaded_business_date

    from series

    where measure in (
        '{{ credit_measure }}', '{{ gdp_measure }}', '{{ house_price_measure }}', '{{ debt_service_measure }}'
    )

    group by
        economy_code,
        period_end_date

)

select * from pivoted
