"""Row-level checks against earlier batches: orphans, prices that are stale or jump, unpriced positions, loans that
do not reconcile.

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
    ExpectPositionsPriced,
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


PRICE_SOURCES = ("market_prices", "market_price_history")


def _price_series(source: str, t: Thresholds) -> str:
    """CTEs `cur` (batches under test), `picked` and `series`: the live closes of the tested instruments.

    A day's close is the daily `market_prices` row when there is one, else the price history of the most recent
    delivery (`price_date` is the day for both: a daily row is dated on its business date by rule); `picked`
    holds every candidate with its rank `pick` (1 = used), `series` the closes used, each with the previous
    one, the log return between them, whether it belongs to a batch under test (`mine`), its batch and line.
    The queries stay short: the gate stores them with every result, in an index.
    """
    days = int(t.price_history_trading_days * 1.5) + 10

    def branch(rank: int, s: str) -> str:
        mine = f" and {not_replaced('b', 'cur')}" if s == source else ""
        return f"""select r.batch_id, r.source_line, r.instrument_id, r.price_date as d, r.close_price,
          {rank} as pref, b.business_date as got
        from raw.{s} as r join audit.batches as b on b.batch_id = r.batch_id
        where b.source = '{s}' and b.status {LIVE}{mine} and b.business_date <= (select k.hi from k)
          and r.instrument_id = any(cast((select k.ids from k) as text[]))
          and r.price_date between (select k.lo from k) and (select k.hi from k)"""

    return f"""cur as (
        select b.batch_id, b.business_date as d from audit.batches as b
        where b.batch_id in (select x.batch_id from {{batch}} as x)
    ),
    k as (
        select min(x.price_date) - {days} as lo, greatest(max(x.price_date), (select max(cur.d) from cur)) as hi,
          array_agg(distinct x.instrument_id) as ids
        from {{batch}} as x
    ),
    picked as (
        select c.*, c.batch_id in (select cur.batch_id from cur) as mine,
          row_number() over (partition by c.instrument_id, c.d order by c.pref, c.got desc, c.batch_id, c.source_line) as pick
        from ({branch(0, PRICE_SOURCES[0])}
        union all {branch(1, PRICE_SOURCES[1])}) as c
    ),
    series as (
        select p.batch_id, p.source_line, p.instrument_id, p.d, p.close_price, p.mine,
          lag(p.close_price) over w as prev_close, lag(p.d) over w as prev_d,
          ln(p.close_price / nullif(lag(p.close_price) over w, 0)) as r
        from picked as p where p.pick = 1 and p.close_price > 0
        window w as (partition by p.instrument_id order by p.d)
    )"""


def price_jump(source: str, t: Thresholds) -> ExpectPriceReturnsWithinRobustBand:
    """A close whose log return `r` from the previous close lies outside the instrument's robust band.

    The band of a close is max(k * 1.4826 * median |r| of the `price_history_trading_days` closes before it, a
    floor), from the same series, so inside a history file every row is judged against the rows before it.
    The move back after a one-day spike is not a second break (only the spike's row is named). A history row
    is also judged against the live close that follows it (a history in another unit than the daily
    prices), and a history row that gives way to another close of the same day (the daily one) must lie
    within the floor of it. `log_return` is always ln(this row's close / the close it is compared with).
    """
    n = t.price_history_trading_days
    floor = t.price_jump_floor_log_return
    sigmas = t.price_jump_robust_sigmas * 1.4826
    query = f"""with {_price_series(source, t)},
    recent as (
        select s.*, array_agg(abs(s.r)) over (partition by s.instrument_id order by s.d
          rows between {n} preceding and 1 preceding) as rs
        from series as s
    ),
    banded as (
        select e.*, greatest({sigmas} * coalesce(case when abs(e.r) > {floor} then
          (select percentile_cont(0.5) within group (order by v) from unnest(e.rs) as v) end, 0), {floor}) as band
        from recent as e
    ),
    paired as (
        select j.*, lag(j.jump) over w as prev_jump, lag(j.r) over w as prev_r, lag(j.mine) over w as prev_mine,
          lag(j.batch_id) over w as prev_batch_id, lag(j.source_line) over w as prev_line
        from (select e.*, abs(e.r) > e.band as jump from banded as e) as j
        window w as (partition by j.instrument_id order by j.d)
    ),
    breaks as (
        select * from paired as j
        where j.jump and not (coalesce(j.prev_jump, false) and abs(j.r + j.prev_r) <= j.band)
    )
    select j.batch_id, j.source_line, j.instrument_id, j.d as price_date, j.close_price,
      'previous close' as compared_with, j.prev_d as compared_date, j.prev_close as compared_close,
      round(cast(j.r as numeric), 4) as log_return, round(cast(j.band as numeric), 4) as band
    from breaks as j where j.mine
    union all
    select j.prev_batch_id, j.prev_line, j.instrument_id, j.prev_d, j.prev_close, 'next close', j.d, j.close_price,
      round(cast(-j.r as numeric), 4), round(cast(j.band as numeric), 4)
    from breaks as j where j.prev_mine and not j.mine
    union all
    select g.batch_id, g.source_line, g.instrument_id, g.d, g.close_price, 'close kept for the day', u.d, u.close_price,
      round(cast(ln(g.close_price / u.close_price) as numeric), 4), {floor}
    from picked as g join picked as u on u.instrument_id = g.instrument_id and u.d = g.d and u.pick = 1
    where g.pick > 1 and g.mine and g.close_price > 0 and u.close_price > 0
      and abs(ln(g.close_price / u.close_price)) > {floor}"""
    return ExpectPriceReturnsWithinRobustBand(unexpected_rows_query=capped(query))


def stale_price(source: str, t: Thresholds) -> ExpectPricesNotStale:
    """A close that ends a run of `stale_trading_days` identical closes of its instrument (history included)."""
    n = t.stale_trading_days
    query = f"""with {_price_series(source, t)},
    runs as (
        select s.*, count(*) over w as n, min(s.close_price) over w as lo, max(s.close_price) over w as hi,
          min(s.d) over w as since
        from series as s window w as (partition by s.instrument_id order by s.d rows between {n - 1} preceding and current row)
    )
    select runs.batch_id, runs.source_line, runs.instrument_id, runs.d as price_date, runs.close_price,
      runs.n as same_close_trading_days, runs.since as same_close_since
    from runs where runs.mine and runs.n = {n} and runs.lo = runs.hi"""
    return ExpectPricesNotStale(unexpected_rows_query=capped(query))


def unknown_instrument() -> ExpectKnownInstruments:
    """Once prices or a price history are live, a daily close names an instrument they know."""
    known = f"""select 1 from raw.{{table}} as r join audit.batches as b on b.batch_id = r.batch_id
        where r.instrument_id = tested.instrument_id and b.status {LIVE} and b.business_date {{before}} tested.batch_business_date"""
    query = f"""select tested.batch_id, tested.source_line, tested.instrument_id
    from {{batch}} as tested
    where exists (
        select 1 from audit.batches as earlier
        where earlier.status {LIVE} and (
            (earlier.source = 'market_prices' and earlier.business_date < tested.batch_business_date)
            or (earlier.source = 'market_price_history' and earlier.business_date <= tested.batch_business_date))
    )
    and not exists ({known.format(table='market_prices', before='<')})
    and not exists ({known.format(table='market_price_history', before='<=')})"""
    return ExpectKnownInstruments(unexpected_rows_query=capped(query))


def position_unpriced() -> ExpectPositionsPriced:
    """A position in an instrument without a live daily close on the position date (it cannot be valued)."""
    last = f"""select max(r.price_date) from raw.{{table}} as r join audit.batches as b on b.batch_id = r.batch_id
            where r.instrument_id = tested.instrument_id and b.status {LIVE} and r.price_date <= tested.position_date"""
    query = f"""select tested.batch_id, tested.source_line, tested.portfolio_id, tested.instrument_id, tested.position_date,
           greatest(({last.format(table='market_prices')}), ({last.format(table='market_price_history')})) as last_close_date
    from {{batch}} as tested
    where not exists (
        select 1 from raw.market_prices as r join audit.batches as b on b.batch_id = r.batch_id
        where r.instrument_id = tested.instrument_id and r.price_date = tested.position_date and b.status {LIVE}
    )"""
    return ExpectPositionsPriced(unexpected_rows_query=capped(query))


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
        select 1 from {{batch}} as x where x.batch_id = prev.batch_id and x.instrument_id = r.instrument_id
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
            select 1 from {{batch}} as x where x.batch_id = prev.batch_id and x.loan_id = r.loan_id
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
    """CTEs `cur` and `tested`: rows under test with their loan's previous live balance, dpd and date.

    The previous row is the loan's latest live one before the row's day, within LOOKBACK_DAYS. It is nearly
    always on the live day just before (or in another batch under test): one window over those rows finds it,
    reading two days of the book, not a month. A loan without a row there (new, or absent for some days) is looked
    up on its own, through the (loan_id, performance_date) index."""
    live_performance = f"b.source = 'loan_performance' and b.status {LIVE} and {not_replaced('b', 'cur')}"
    return f"""cur as ({batches_under_test(batch_ids)}),
    days as (
        select r.batch_id, r.source_line, r.loan_id, b.business_date as d, r.balance_amount, r.days_past_due,
               lag(r.balance_amount) over w as prev_balance, lag(r.days_past_due) over w as prev_dpd,
               lag(b.business_date) over w as prev_d
        from raw.loan_performance as r join audit.batches as b on b.batch_id = r.batch_id
        where {live_performance}
          and b.business_date >= coalesce((
                select max(b.business_date) from audit.batches as b
                where {live_performance} and b.business_date < (select min(cur.d) from cur)
              ), (select min(cur.d) from cur))
          and b.business_date <= (select max(cur.d) from cur)
        window w as (partition by r.loan_id order by b.business_date)
    ),
    tested as (
        select days.batch_id, days.source_line, days.loan_id, days.d, days.balance_amount, days.days_past_due,
               coalesce(days.prev_balance, earlier.balance_amount) as prev_balance,
               coalesce(days.prev_dpd, earlier.days_past_due) as prev_dpd,
               coalesce(days.prev_d, earlier.d) as prev_d
        from days join cur on cur.batch_id = days.batch_id
        left join lateral (
            select r.balance_amount, r.days_past_due, b.business_date as d
            from raw.loan_performance as r join audit.batches as b on b.batch_id = r.batch_id
            where days.prev_d is null and r.loan_id = days.loan_id and {live_performance}
              and r.performance_date < days.d and r.performance_date >= days.d - {LOOKBACK_DAYS}
            order by r.performance_date desc, b.business_date desc limit 1
        ) as earlier on true
    )"""


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
