-- A month with a missed instalment extends the streak of the previous calendar month by one (1 when that
-- month had no missed instalment or no row); a month without one has no streak.

with

borrower_months as (

    select
        borrower_month_key,
        borrower_id,
        month_start_date,
        missed_payments_count,
        missed_payment_streak_months,
        lag(month_start_date) over by_borrower as previous_month_start_date,
        lag(missed_payment_streak_months) over by_borrower as previous_streak_months

    from {{ ref('fct_borrower_months') }}

    -- the months the latest build wrote, and the month before them (a full build: every month)
    where month_start_date >= {{ latest_build_start('fct_borrower_months', grain='month', include_previous=true) }}

    window by_borrower as (
        partition by borrower_id
        order by month_start_date
    )

),

expected as (

    select
        *,
        case
            when missed_payments_count = 0 then 0
            when previous_month_start_date = cast(month_start_date - interval '1 month' as date)
                then previous_streak_months + 1
            else 1
        end as expected_streak_months

    from borrower_months

)

select *

from expected

where
    missed_payment_streak_months <> expected_streak_months
    -- the month before the built ones is read for its streak only, not checked (its own month before is not read)
    and month_start_date >= {{ latest_build_start('fct_borrower_months', grain='month') }}
