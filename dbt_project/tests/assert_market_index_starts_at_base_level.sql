-- The index starts at its base level with no return on its first day.

with

first_day as (

    select *

    from {{ ref('fct_market_index_days') }}

    order by price_date

    limit 1

)

select *

from first_day

where
    abs(index_level - {{ var('index_base_level') }}) > 1e-9
    or index_log_return is not null
