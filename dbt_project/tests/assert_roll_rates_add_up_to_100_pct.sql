-- For every month, segment and from bucket, the loans (and the balance, when there is one) are spread over
-- the to states: the roll rates add up to 100 %.

with

from_buckets as (

    select
        roll_month_start_date,
        segment,
        from_bucket,
        sum(roll_rate_pct) as roll_rate_pct,
        sum(balance_roll_rate_pct) as balance_roll_rate_pct,
        count(balance_roll_rate_pct) as balance_roll_rates_count

    from {{ ref('fct_credit_roll_rates') }}

    -- the months the latest build wrote (a full build: every month)
    where roll_month_start_date >= {{ latest_build_start('fct_credit_roll_rates', grain='month') }}

    group by
        roll_month_start_date,
        segment,
        from_bucket

)

select *

from from_buckets

where
    abs(roll_rate_pct - 100) > 0.01
    or (balance_roll_rates_count > 0 and abs(balance_roll_rate_pct - 100) > 0.01)
