"""Row-level checks against earlier batches: orphans, prices that are stale or jump, loans that do not reconcile.

Each row that breaks a rule is returned with its batch and file line. "Earlier" means live batches (passed or
loaded) of the same or earlier business dates, so a quarantined day never serves as anyone's history: the gate
decides batches in date order and re-validates the later ones when an earlier one is quarantined.
"""

from __future__ import annotations

from expectations.config import Thresholds
from expectations.custom import (
    LIVE,
    ExpectBalancesToReconcile,
    ExpectDaysPastDueToAgeAtMostByElapsedDays,
    ExpectKnownInstruments,
    ExpectMacroValuesWithinJumpBand,
    ExpectNoInstrumentMissing,
    ExpectNoLoanToVanish,
    ExpectParentKeysToExist,
    ExpectPriceReturnsWithinRobustBand,
    ExpectPricesNotStale,
    batches_under_test,
    capped,
    not_replaced,
)

# child source -> (its foreign key, the parent source, the parent's key)
REFERENCES: dict[str, tuple[str, str, str]] = {
    "loans": ("borrower_id", "borrowers", "borrower_id"),
    "repayments": ("loan_id", "loans", "loan_id"),
    "loan_performance": ("loan_id", "loans", "loan_id"),
}


def orphan_keys(source: str) -> ExpectParentKeysToExist:
    fk, parent, pk = REFERENCES[source]
    query = f"""select tested.batch_id, tested.source_line, tested.{fk}, '{parent}' as parent_source
    from {{batch}} as tested
    where not exists (
        select 1 from raw.{parent} as p join audit.batches as pb on pb.batch_id = p.batch_id
        where p.{pk} = tested.{fk} and pb.status {LIVE} and pb.business_date <= tested.batch_business_date
    )"""
    return ExpectParentKeysToExist(unexpected_rows_query=capped(query))


def _price_history(t: Thresholds) -> str:
    """CTEs `tested` (rows under test) and `hist` (live closes of their instruments, with the previous close)."""
    days = int(t.price_history_trading_days * 1.5) + 10
    return f"""tested as (
        select x.batch_id, x.source_line, x.instrument_id, x.batch_business_date as d, x.close_price
        from {{batch}} as x
    ),
    hist as (
        select r.batch_id, r.instrument_id, b.business_date as d, r.close_price,
               lag(r.close_price) over w as prev_close, lag(b.business_date) over w as prev_d,
               case when r.close_price > 0 and lag(r.close_price) over w > 0
                    then ln(r.close_price / lag(r.close_price) over w) end as log_return
        from raw.market_prices as r join audit.batches as b on b.batch_id = r.batch_id
        where b.source = 'market_prices' and b.status {LIVE} and {not_replaced('b', 'tested')}
          and r.instrument_id in (select tested.instrument_id from tested)
          and b.business_date >= (select min(tested.d) from tested) - {days}
          and b.business_date <= (select max(tested.d) from tested)
        window w as (partition by r.instrument_id order by b.business_date)
    )"""


def price_jump(t: Thresholds) -> ExpectPriceReturnsWithinRobustBand:
    days = int(t.price_history_trading_days * 1.5) + 10
    query = f"""with {_price_history(t)},
    banded as (
        select tested.batch_id, tested.source_line, tested.instrument_id, tested.close_price, h.prev_close, h.prev_d,
               h.log_return,
               (select percentile_cont(0.5) within group (order by abs(e.log_return)) from hist as e
                where e.instrument_id = tested.instrument_id and e.d < tested.d and e.d >= tested.d - {days}
                  and e.log_return is not null) as median_abs_return
        from tested join hist as h
          on h.batch_id = tested.batch_id and h.instrument_id = tested.instrument_id and h.d = tested.d
        where h.log_return is not null
    )
    select banded.batch_id, banded.source_line, banded.instrument_id, banded.close_price,
           banded.prev_close as previous_close, banded.prev_d as previous_date,
           round(cast(banded.log_return as numeric), 4) as log_return,
           round(cast(greatest({t.price_jump_robust_sigmas} * 1.4826 * coalesce(banded.median_abs_return, 0),
                               {t.price_jump_floor_log_return}) as numeric), 4) as band
    from banded
    where abs(banded.log_return) > greatest({t.price_jump_robust_sigmas} * 1.4826 * coalesce(banded.median_abs_return, 0),
                                            {t.price_jump_floor_log_return})"""
    return ExpectPriceReturnsWithinRobustBand(unexpected_rows_query=capped(query))


def stale_price(t: Thresholds) -> ExpectPricesNotStale:
    n = t.stale_trading_days
    query = f"""with {_price_history(t)},
    runs as (
        select hist.*, count(*) over w as n, min(hist.close_price) over w as lo, max(hist.close_price) over w as hi,
               min(hist.d) over w as since
        from hist window w as (partition by hist.instrument_id order by hist.d rows between {n - 1} preceding and current row)
    )
    select tested.batch_id, tested.source_line, tested.instrument_id, tested.close_price,
           runs.n as same_close_trading_days, runs.since as same_close_since
    from tested join runs on runs.batch_id = tested.batch_id and runs.instrument_id = tested.instrument_id
      and runs.d = tested.d
    where runs.n = {n} and runs.lo = runs.hi"""
    return ExpectPricesNotStale(unexpected_rows_query=capped(query))


def unknown_instrument() -> ExpectKnownInstruments:
    query = f"""select tested.batch_id, tested.source_line, tested.instrument_id
    from {{batch}} as tested
    where exists (
        select 1 from audit.batches as earlier
        where earlier.source = 'market_prices' and earlier.status {LIVE} and earlier.business_date < tested.batch_business_date
    )
    and not exists (
        select 1 from raw.market_prices as r join audit.batches as b on b.batch_id = r.batch_id
        where r.instrument_id = tested.instrument_id and b.status {LIVE} and b.business_date < tested.batch_business_date
    )"""
    return ExpectKnownInstruments(unexpected_rows_query=capped(query))


def _previous_batch(source: str) -> str:
    """CTE `prev`: for each batch under test, the latest live batch of its source on an earlier date."""
    return f"""prev as (
        select cur.batch_id, (
            select p.batch_id from audit.batches as p
            where p.source = '{source}' and p.status {LIVE} and p.business_date < cur.d
            order by p.business_date desc, (p.batch_id in (select c.batch_id from cur as c)) desc limit 1
        ) as prev_batch
        from cur
    )"""


def instrument_missing(batch_ids: list[str]) -> ExpectNoInstrumentMissing:
    query = f"""with cur as ({batches_under_test(batch_ids)}), {_previous_batch('market_prices')}
    select prev.batch_id, cast(null as integer) as source_line, r.instrument_id, r.price_date as last_priced_date
    from prev join raw.market_prices as r on r.batch_id = prev.prev_batch
    where not exists (
        select 1 from raw.market_prices as x where x.batch_id = prev.batch_id and x.instrument_id = r.instrument_id
    )"""
    return ExpectNoInstrumentMissing(unexpected_rows_query=capped(query))


def loan_vanished(batch_ids: list[str], t: Thresholds) -> ExpectNoLoanToVanish:
    """A loan left the extract while it still owed more than what was paid on it since its last row."""
    query = f"""with cur as ({batches_under_test(batch_ids)}), {_previous_batch('loan_performance')},
    gone as (
        select prev.batch_id, cur.d, r.loan_id, r.balance_amount, r.performance_date
        from prev join cur on cur.batch_id = prev.batch_id
        join raw.loan_performance as r on r.batch_id = prev.prev_batch
        where r.balance_amount > 0 and not exists (
            select 1 from raw.loan_performance as x where x.batch_id = prev.batch_id and x.loan_id = r.loan_id
        )
    ),
    settled as (
        select gone.batch_id, gone.loan_id, gone.balance_amount, gone.performance_date,
               coalesce(sum(p.paid_amount), 0) as paid_since
        from gone left join (
            raw.repayments as p join audit.batches as pb on pb.batch_id = p.batch_id and pb.status {LIVE}
        ) on p.loan_id = gone.loan_id and p.due_date > gone.performance_date and p.due_date <= gone.d
        group by gone.batch_id, gone.loan_id, gone.balance_amount, gone.performance_date
    )
    select settled.batch_id, cast(null as integer) as source_line, settled.loan_id,
           settled.balance_amount as last_balance_amount, settled.performance_date as last_seen_date,
           settled.paid_since as paid_since_amount
    from settled where settled.balance_amount > settled.paid_since + {_tolerance(t, 'settled.paid_since')}"""
    return ExpectNoLoanToVanish(unexpected_rows_query=capped(query))


LOOKBACK_DAYS = 31  # how far back a loan's previous balance is looked for


def _tolerance(t: Thresholds, paid: str) -> str:
    """Rounding allowed in a reconciliation: a fixed amount plus a share of what was paid (final instalments)."""
    return f"({t.reconciliation_tolerance_amount} + {t.reconciliation_tolerance_pct_of_paid / 100} * {paid})"


def _loan_history(batch_ids: list[str]) -> str:
    """CTEs `cur` and `tested`: rows under test with their loan's previous live balance, dpd and date."""
    return f"""cur as ({batches_under_test(batch_ids)}),
    days as (
        select r.batch_id, r.source_line, r.loan_id, b.business_date as d, r.balance_amount, r.days_past_due,
               lag(r.balance_amount) over w as prev_balance, lag(r.days_past_due) over w as prev_dpd,
               lag(b.business_date) over w as prev_d
        from raw.loan_performance as r join audit.batches as b on b.batch_id = r.batch_id
        where b.source = 'loan_performance' and b.status {LIVE} and {not_replaced('b', 'cur')}
          and b.business_date >= (select min(cur.d) from cur) - {LOOKBACK_DAYS}
          and b.business_date <= (select max(cur.d) from cur)
        window w as (partition by r.loan_id order by b.business_date)
    ),
    tested as (select days.* from days join cur on cur.batch_id = days.batch_id)"""


def balance_reconciliation(batch_ids: list[str], t: Thresholds) -> ExpectBalancesToReconcile:
    tol = _tolerance(t, "followed.paid_since")
    query = f"""with {_loan_history(batch_ids)},
    paid as (
        select r.loan_id, b.business_date as d, sum(r.paid_amount) as paid_amount
        from raw.repayments as r join audit.batches as b on b.batch_id = r.batch_id
        where b.source = 'repayments' and b.status {LIVE}
          and b.business_date >= (select min(cur.d) from cur) - {LOOKBACK_DAYS}
          and b.business_date <= (select max(cur.d) from cur)
        group by r.loan_id, b.business_date
    ),
    followed as (
        select tested.batch_id, tested.source_line, tested.loan_id, tested.balance_amount, tested.prev_balance,
               tested.prev_d, coalesce(sum(paid.paid_amount), 0) as paid_since
        from tested left join paid on paid.loan_id = tested.loan_id and paid.d > tested.prev_d and paid.d <= tested.d
        where tested.prev_d is not null
        group by tested.batch_id, tested.source_line, tested.loan_id, tested.balance_amount, tested.prev_balance,
                 tested.prev_d
    ),
    first_seen as (
        select tested.batch_id, tested.source_line, tested.loan_id, tested.balance_amount, terms.principal_amount
        from tested cross join lateral (
            select l.principal_amount from raw.loans as l join audit.batches as lb on lb.batch_id = l.batch_id
            where l.loan_id = tested.loan_id and lb.status {LIVE} order by lb.business_date desc limit 1
        ) as terms
        where tested.prev_d is null
    )
    select followed.batch_id, followed.source_line, followed.loan_id, followed.balance_amount,
           followed.prev_balance as previous_balance_amount, followed.prev_d as previous_date,
           followed.paid_since as paid_since_amount, cast(null as numeric) as principal_amount
    from followed
    where followed.balance_amount > followed.prev_balance + {tol}
       or followed.balance_amount < followed.prev_balance - followed.paid_since - {tol}
    union all
    select first_seen.batch_id, first_seen.source_line, first_seen.loan_id, first_seen.balance_amount,
           null, null, null, first_seen.principal_amount
    from first_seen where first_seen.balance_amount > first_seen.principal_amount + {t.reconciliation_tolerance_amount}"""
    return ExpectBalancesToReconcile(unexpected_rows_query=capped(query))


def days_past_due_jump(batch_ids: list[str]) -> ExpectDaysPastDueToAgeAtMostByElapsedDays:
    query = f"""with {_loan_history(batch_ids)}
    select tested.batch_id, tested.source_line, tested.loan_id, tested.days_past_due,
           tested.prev_dpd as previous_days_past_due, tested.prev_d as previous_date
    from tested
    where tested.prev_d is not null and tested.days_past_due > tested.prev_dpd + (tested.d - tested.prev_d)"""
    return ExpectDaysPastDueToAgeAtMostByElapsedDays(unexpected_rows_query=capped(query))


def macro_value_jump(batch_ids: list[str], t: Thresholds) -> ExpectMacroValuesWithinJumpBand:
    query = f"""with cur as ({batches_under_test(batch_ids)}),
    series as (
        select r.batch_id, r.source_line, r.series_id, r.period_end_date, r.value,
               lag(r.value) over w as prev_value, lag(r.period_end_date) over w as prev_period
        from raw.macro_series as r join audit.batches as b on b.batch_id = r.batch_id
        where b.source = 'macro_series' and b.status {LIVE} and {not_replaced('b', 'cur')}
          and b.business_date <= (select max(cur.d) from cur)
        window w as (partition by r.series_id order by r.period_end_date, b.business_date)
    )
    select series.batch_id, series.source_line, series.series_id, series.period_end_date, series.value,
           series.prev_value as previous_value, series.prev_period as previous_period_end_date
    from series join cur on cur.batch_id = series.batch_id
    where series.value > 0 and series.prev_value > 0
      and abs(ln(series.value / series.prev_value)) > {t.macro_jump_log_ratio}"""
    return ExpectMacroValuesWithinJumpBand(unexpected_rows_query=capped(query))
