-- Within a vintage and segment, the cumulative default rate (and count) never falls as months on book grow.

with

vintages as (

    select
        vintage_key,
        origination_month_start_date,
        segment,
        months_on_book,
        defaulted_loans_count,
        cumulative_default_rate_pct,
        lag(defaulted_loans_count) over by_vintage as previous_defaulted_loans_count,
        lag(cumulative_default_rate_pct) over by_vintage as previous_cumulative_default_rate_pct

    from {{ ref('fct_credit_vintages') }}

    window by_vintage as (
        partition by origination_month_start_date, segment
        order by months_on_book
    )

)

select *

from vintages

where
    defaulted_loans_count < previous_defaulted_loans_count
    or cumulative_default_rate_pct < previous_cumulative_default_rate_pct - 1e-9
