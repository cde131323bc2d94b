"""Checks on a batch as a whole: its date, control totals, and counts and mixes against a trailing baseline.

The baseline of a batch is the same metric over live batches of the same source and day class (weekday or
weekend) in the `baseline_lookback_days` before its business date: the day under test and quarantined or
superseded batches are never part of it (the flaws users report in Elementary's anomaly tests, #1560 and #980).
A baseline of fewer than `baseline_min_days` batches judges nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from expectations.config import Thresholds
from expectations.custom import (
    LIVE,
    ExpectBatchDateNotInFuture,
    ExpectBatchMetricWithinTrailingBaseline,
    ExpectBatchOnTradingDay,
    ExpectCategoryMixStableAgainstTrailingBaseline,
    ExpectControlTotalsToMatch,
    batches_under_test,
    capped,
    not_replaced,
    same_day_class,
)
from warning_models.contract import ColumnType, get_source


def future_batch(batch_ids: list[str]) -> ExpectBatchDateNotInFuture:
    query = f"""with cur as ({batches_under_test(batch_ids)})
    select cur.batch_id, cast(null as integer) as source_line, cur.d as business_date, current_date as today
    from cur where cur.d > current_date + 1"""
    return ExpectBatchDateNotInFuture(unexpected_rows_query=capped(query))


def trading_day(batch_ids: list[str]) -> ExpectBatchOnTradingDay:
    query = f"""with cur as ({batches_under_test(batch_ids)})
    select cur.batch_id, cast(null as integer) as source_line, cur.d as business_date,
           to_char(cur.d, 'Dy') as weekday
    from cur where not audit.is_trading_day(cur.d)"""
    return ExpectBatchOnTradingDay(unexpected_rows_query=capped(query))


def control_totals(source: str, batch_ids: list[str]) -> ExpectControlTotalsToMatch:
    """Row count and the sum of every numeric column the control file declares."""
    numeric = [c.name for c in get_source(source).columns if c.type in (ColumnType.NUMERIC, ColumnType.INTEGER)]
    sums = "".join(f", sum(tested.{c}) as {c}_total" for c in numeric)
    shown = "".join(
        f", coalesce(s.{c}_total, 0) as {c}_total, cast(k.sums ->> '{c}' as numeric) as {c}_control" for c in numeric
    )
    broken = "".join(
        f" or (k.sums ->> '{c}' is not null and coalesce(s.{c}_total, 0) <> cast(k.sums ->> '{c}' as numeric))"
        for c in numeric
    )
    query = f"""with cur as ({batches_under_test(batch_ids)}),
    s as (select tested.batch_id{sums} from {{batch}} as tested group by tested.batch_id)
    select cur.batch_id, cast(null as integer) as source_line, k.file_name as control_file,
           cur.n as data_rows, k.row_count as control_rows{shown}
    from cur join audit.batch_controls as k on k.batch_id = cur.batch_id
    left join s on s.batch_id = cur.batch_id
    where k.row_count <> cur.n{broken}"""
    return ExpectControlTotalsToMatch(unexpected_rows_query=capped(query))


@dataclass(frozen=True)
class Metric:
    """A batch-level number: `sql` aggregates raw rows `r`; None means the batch's row count."""

    name: str
    sql: str | None = None


ROW_COUNT = Metric("row_count")
DISTINCT_USERS = Metric("distinct_users", "count(distinct r.user_id)")


def _metric_values(source: str, metric: Metric, lookback: int) -> str:
    """Per batch (live ones in the window and those under test): business date `d` and metric value `v`."""
    window = f"""b.source = '{source}' and (b.status {LIVE} or b.batch_id in (select cur.batch_id from cur))
          and {not_replaced('b', 'cur')}
          and b.business_date >= (select min(cur.d) from cur) - {lookback}
          and b.business_date <= (select max(cur.d) from cur)"""
    if metric.sql is None:
        return f"select b.batch_id, b.business_date as d, coalesce(b.row_count, 0) as v from audit.batches as b where {window}"
    return f"""select b.batch_id, b.business_date as d, {metric.sql} as v
    from audit.batches as b left join raw.{source} as r on r.batch_id = b.batch_id
    where {window} group by b.batch_id, b.business_date"""


def _metric_query(source: str, batch_ids: list[str], metric: Metric, t: Thresholds, rule: str, min_level: float) -> str:
    return f"""with cur as ({batches_under_test(batch_ids)}),
    vals as ({_metric_values(source, metric, t.baseline_lookback_days)}),
    hist as (
        select cur.batch_id, vals.v from cur join vals
          on vals.d < cur.d and vals.d >= cur.d - {t.baseline_lookback_days} and {same_day_class('vals.d', 'cur.d')}
    ),
    med as (select hist.batch_id, percentile_cont(0.5) within group (order by hist.v) as m, count(*) as k
            from hist group by hist.batch_id),
    mad as (select hist.batch_id, percentile_cont(0.5) within group (order by abs(hist.v - med.m)) as mad
            from hist join med on med.batch_id = hist.batch_id group by hist.batch_id),
    judged as (
        select cur.batch_id, cast(null as integer) as source_line, '{metric.name}' as metric, x.v as observed,
               round(cast(med.m as numeric), 2) as baseline_median,
               round(cast(1.4826 * mad.mad as numeric), 2) as baseline_robust_sigma, med.k as baseline_days,
               med.m as m, greatest(1.4826 * mad.mad, 1) as sigma, x.v as v
        from cur join vals as x on x.batch_id = cur.batch_id
        join med on med.batch_id = cur.batch_id join mad on mad.batch_id = cur.batch_id
        where med.k >= {t.baseline_min_days} and med.m >= {min_level}
    )
    select judged.batch_id, judged.source_line, judged.metric, judged.observed, judged.baseline_median,
           judged.baseline_robust_sigma, judged.baseline_days
    from judged where {rule}"""


# Sources whose header-only batch is a state of the business, not lost data: a flat trading book holds no
# positions. Their empty batches are not a collapse (drift still warns: a book going flat is worth a look).
EMPTY_IS_NORMAL = frozenset({"portfolio_positions"})


def metric_collapse(source: str, batch_ids: list[str], metric: Metric, t: Thresholds) -> ExpectBatchMetricWithinTrailingBaseline:
    """The metric fell below low_ratio or rose above high_ratio times its baseline median (lost or doubled data)."""
    rule = f"judged.v < judged.m * {t.collapse_low_ratio} or judged.v > judged.m * {t.collapse_high_ratio}"
    if source in EMPTY_IS_NORMAL:
        rule = f"judged.v > 0 and ({rule})"
    query = _metric_query(source, batch_ids, metric, t, rule, t.collapse_min_baseline)
    return ExpectBatchMetricWithinTrailingBaseline(unexpected_rows_query=capped(query))


def metric_drift(source: str, batch_ids: list[str], metric: Metric, t: Thresholds) -> ExpectBatchMetricWithinTrailingBaseline:
    """The metric is more than drift_z robust sigmas and drift_min_relative away from its baseline median."""
    rule = (
        f"abs(judged.v - judged.m) > {t.drift_z} * judged.sigma"
        f" and abs(judged.v - judged.m) > {t.drift_min_relative} * judged.m"
    )
    query = _metric_query(source, batch_ids, metric, t, rule, t.drift_min_baseline)
    return ExpectBatchMetricWithinTrailingBaseline(unexpected_rows_query=capped(query))


# The key categorical field of each source whose mix is watched (an expression over raw rows `r`).
CATEGORY_FIELDS: dict[str, tuple[str, str]] = {
    "access_events": ("action", "r.action"),
    "loan_performance": (
        "days_past_due_bucket",
        "case when r.days_past_due = 0 then '0' when r.days_past_due < 30 then '1-29' "
        "when r.days_past_due < 60 then '30-59' when r.days_past_due < 90 then '60-89' else '90+' end",
    ),
    "repayments": (
        "payment_status",
        "case when r.paid_amount >= r.due_amount then 'paid' when r.paid_amount > 0 then 'partial' else 'missed' end",
    ),
}


def category_drift(source: str, batch_ids: list[str], t: Thresholds) -> ExpectCategoryMixStableAgainstTrailingBaseline:
    """Population stability index of the source's key categorical field against the pooled baseline mix."""
    field, expression = CATEGORY_FIELDS[source]
    lookback = t.baseline_lookback_days
    query = f"""with cur as ({batches_under_test(batch_ids)}),
    daily as (
        select b.batch_id, b.business_date as d, {expression} as cat, count(*) as n
        from audit.batches as b join raw.{source} as r on r.batch_id = b.batch_id
        where b.source = '{source}' and (b.status {LIVE} or b.batch_id in (select cur.batch_id from cur))
          and {not_replaced('b', 'cur')}
          and b.business_date >= (select min(cur.d) from cur) - {lookback}
          and b.business_date <= (select max(cur.d) from cur)
        group by b.batch_id, b.business_date, cat
    ),
    base_rows as (
        select cur.batch_id, daily.d, daily.cat, daily.n from cur join daily
          on daily.d < cur.d and daily.d >= cur.d - {lookback} and {same_day_class('daily.d', 'cur.d')}
    ),
    base as (select batch_id, cat, sum(n) as n from base_rows group by batch_id, cat),
    base_days as (select batch_id, count(distinct d) as k from base_rows group by batch_id),
    tested as (select daily.batch_id, daily.cat, daily.n from daily join cur on cur.batch_id = daily.batch_id),
    cats as (select batch_id, cat from base union select batch_id, cat from tested),
    mix as (
        select cats.batch_id, cats.cat, cast(coalesce(t.n, 0) as double precision) as n_now,
               cast(coalesce(bs.n, 0) as double precision) as n_base
        from cats left join tested as t on t.batch_id = cats.batch_id and t.cat = cats.cat
        left join base as bs on bs.batch_id = cats.batch_id and bs.cat = cats.cat
    ),
    shares as (
        select batch_id, cat, sum(n_now) over w as rows_now,
               greatest(n_now / nullif(sum(n_now) over w, 0), 0.0001) as p,
               greatest(n_base / nullif(sum(n_base) over w, 0), 0.0001) as q
        from mix window w as (partition by batch_id)
    ),
    psi as (
        select batch_id, sum((p - q) * ln(p / q)) as psi, max(rows_now) as rows_now,
               string_agg(cat || ' ' || round(cast(100 * p as numeric), 1) || '% (was '
                          || round(cast(100 * q as numeric), 1) || '%)', ', ' order by cat) as mix
        from shares group by batch_id
    )
    select psi.batch_id, cast(null as integer) as source_line, '{field}' as field,
           round(cast(psi.psi as numeric), 4) as psi, psi.mix, psi.rows_now as data_rows, base_days.k as baseline_days
    from psi join base_days on base_days.batch_id = psi.batch_id
    where base_days.k >= {t.baseline_min_days} and psi.rows_now >= {t.psi_min_rows} and psi.psi > {t.psi_max}"""
    return ExpectCategoryMixStableAgainstTrailingBaseline(unexpected_rows_query=capped(query))
