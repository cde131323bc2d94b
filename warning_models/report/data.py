"""What the daily report shows, read from the warehouse as it stood on the business date (nothing later).

Each key indicator is a series of ``warning.indicator_values`` (its value and threshold by business date) with the
days its alerts fired; the top alerts are the cases as of the date; data quality is the day's batches and
data-quality alerts; model health is the latest validation figures of each model up to the date.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import psycopg2.extensions

from warning_models.alerts.lifecycle import ACTIVE_STATUSES, SEVERITY_RANK, Case, cases_as_of

HISTORY_DAYS = 180
TOP_PER_DOMAIN = 5
DOMAINS = ("credit", "market", "macro", "access", "data_quality")


@dataclass(frozen=True)
class SeriesSpec:
    """A key indicator to plot: one entity's values (or, with ``aggregate``, the day's maximum over entities)."""

    key: str
    title: str
    indicator: str
    entity_id: str | None  # None: every entity, aggregated
    unit: str
    extra_lines: tuple[tuple[float, str], ...] = ()  # (value, label): thresholds beside the stored one


KEY_SERIES: tuple[SeriesSpec, ...] = (
    SeriesSpec("credit_npl", "Credit: NPL ratio forecast, all loans (worst of months 1-3)", "credit_npl_forecast",
               "all", "%"),
    SeriesSpec("market_regime", "Market: probability of the high-variance regime (filtered, knowable that day)",
               "market_stress_regime", "MARKET", "probability"),
    SeriesSpec("macro_gap", "Systemic: credit-to-GDP gap (one-sided HP), every economy", "macro_credit_gap", None, "pp",
               ((10.0, "10 pp: full buffer"),)),
    SeriesSpec("access_score", "Data access: highest user risk score of the day", "access_activity_baseline", None,
               "score 0-100", ((60.0, "high"),)),
)


@dataclass
class Series:
    spec: SeriesSpec
    dates: list[dt.date] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    threshold: float | None = None
    alert_dates: list[dt.date] = field(default_factory=list)
    by_entity: dict[str, tuple[list[dt.date], list[float]]] = field(default_factory=dict)


@dataclass
class VarBacktestRow:
    entity_id: str
    method: str
    confidence_pct: float
    exceptions: int
    observations: int
    zone: str
    kupiec_p: float | None
    conditional_coverage_p: float | None


@dataclass
class ReportData:
    business_date: dt.date
    cases: list[Case]
    series: list[Series]
    var_points: list[tuple[dt.date, float, float, bool]]  # MARKET, historical 99 %: date, -VaR, realised, exception
    var_backtests: list[VarBacktestRow]
    batches: list[tuple[str, str, int | None, str]]  # source, status, rows, file
    dq_alerts: list[tuple[str, str, str]]  # severity, batch, explanation
    open_quarantine: int
    credit_health: dict[str, float]
    macro_health: dict[str, float]
    access_health: dict[str, float]
    evaluation: list[tuple[str, int, int, float | None, float | None, float | None]]

    def top_cases(self, domain: str, n: int = TOP_PER_DOMAIN) -> list[Case]:
        active = [c for c in self.cases if c.domain == domain and c.status in ACTIVE_STATUSES]
        active.sort(key=lambda c: (-SEVERITY_RANK[c.severity], -c.last_seen_date.toordinal(), -abs(c.value)))
        return active[:n]

    def count(self, domain: str, severity: str) -> int:
        return sum(1 for c in self.cases if c.domain == domain and c.severity == severity and c.status in ACTIVE_STATUSES)


def _series(cur: psycopg2.extensions.cursor, spec: SeriesSpec, day: dt.date) -> Series:
    start = day - dt.timedelta(days=HISTORY_DAYS)
    out = Series(spec)
    if spec.entity_id is not None:
        cur.execute(
            """select as_of_date, value, threshold from warning.indicator_values
               where indicator = %s and entity_id = %s and as_of_date between %s and %s order by as_of_date""",
            (spec.indicator, spec.entity_id, start, day),
        )
        rows = cur.fetchall()
        out.dates, out.values = [r[0] for r in rows], [float(r[1]) for r in rows]
        out.threshold = next((float(r[2]) for r in reversed(rows) if r[2] is not None), None)
        cur.execute(
            """select distinct as_of_date from warning.alerts
               where indicator = %s and entity_id = %s and as_of_date between %s and %s order by 1""",
            (spec.indicator, spec.entity_id, start, day),
        )
    else:
        cur.execute(
            """select entity_id, as_of_date, value, threshold from warning.indicator_values
               where indicator = %s and as_of_date between %s and %s order by entity_id, as_of_date""",
            (spec.indicator, start, day),
        )
        rows = cur.fetchall()
        daily: dict[dt.date, float] = {}
        for entity, d, value, threshold in rows:
            dates, values = out.by_entity.setdefault(entity, ([], []))
            dates.append(d)
            values.append(float(value))
            daily[d] = max(daily.get(d, float("-inf")), float(value))
            if threshold is not None:
                out.threshold = float(threshold)
        out.dates = sorted(daily)
        out.values = [daily[d] for d in out.dates]
        cur.execute(
            "select distinct as_of_date from warning.alerts where indicator = %s and as_of_date between %s and %s order by 1",
            (spec.indicator, start, day),
        )
    out.alert_dates = [r[0] for r in cur.fetchall()]
    return out


def _latest_run(cur: psycopg2.extensions.cursor, indicator: str, day: dt.date) -> str | None:
    cur.execute(
        "select model_run_id from warning.model_runs where indicator = %s and as_of_date <= %s "
        "order by as_of_date desc limit 1",
        (indicator, day),
    )
    row = cur.fetchone()
    return row[0] if row else None


def _validations(cur: psycopg2.extensions.cursor, indicator: str, day: dt.date, wanted: dict[str, tuple[str, str]]) -> dict[str, float]:
    """The latest value up to ``day`` of each (sample, metric) of the indicator's validations."""
    out: dict[str, float] = {}
    for label, (sample, metric) in wanted.items():
        cur.execute(
            """select v.value from warning.model_validations v join warning.model_runs m using (model_run_id)
               where m.indicator = %s and m.as_of_date <= %s and v.sample = %s and v.metric = %s and v.value is not null
               order by m.as_of_date desc limit 1""",
            (indicator, day, sample, metric),
        )
        row = cur.fetchone()
        if row:
            out[label] = float(row[0])
    return out


def collect(conn: psycopg2.extensions.connection, day: dt.date) -> ReportData:
    cases = cases_as_of(conn, day)
    with conn.cursor() as cur:
        series = [_series(cur, spec, day) for spec in KEY_SERIES]
        var_run = _latest_run(cur, "market_var", day)
        # each day's run: the VaR forecast the day before (previous_var_pct) against the day's return
        cur.execute(
            """select d.price_date, -d.previous_var_pct, d.realised_return_pct, d.is_exception
               from warning.market_var_days d join warning.model_runs r using (model_run_id)
               where r.indicator = 'market_var' and r.as_of_date between %s and %s and d.price_date = r.as_of_date
                 and d.entity_id = 'MARKET' and d.method = 'historical' and d.confidence_pct = 99
                 and d.realised_return_pct is not null and d.previous_var_pct is not null
               order by d.price_date""",
            (day - dt.timedelta(days=HISTORY_DAYS), day),
        )
        var_points = [(r[0], float(r[1]), float(r[2]), bool(r[3])) for r in cur.fetchall()]
        cur.execute(
            """select entity_id, method, confidence_pct, exceptions_count, observations_count, traffic_light_zone,
                      kupiec_p_value, conditional_coverage_p_value
               from warning.var_backtests where model_run_id = %s and entity_type = 'portfolio'
               order by entity_id, method, confidence_pct desc""",
            (var_run,),
        )
        backtests = [VarBacktestRow(*r) for r in cur.fetchall()]
        cur.execute(
            """select source_name, status, row_count, file_name from bi.batches
               where business_date = %s order by source_name, loaded_at""",
            (day,),
        )
        batches = cur.fetchall()
        cur.execute(
            """select severity, entity_id, explanation from warning.alerts
               where domain = 'data_quality' and as_of_date = %s order by severity, entity_id""",
            (day,),
        )
        dq_alerts = cur.fetchall()
        # held back and not replaced since: no batch of the same source and day passed
        cur.execute(
            """select count(*) from bi.batches held
               where held.status = 'quarantined' and held.business_date <= %s
                 and not exists (select 1 from bi.batches ok where ok.source_name = held.source_name
                                 and ok.business_date = held.business_date and ok.status = 'passed')""",
            (day,),
        )
        open_quarantine = int(cur.fetchone()[0])
        credit = _validations(cur, "credit_pd_logit", day, {
            "backtest AUC": ("backtest", "auc"), "holdout AUC": ("holdout", "auc"), "score PSI": ("today", "score_psi"),
            "largest feature PSI": ("today", "max_feature_psi"), "model age (days)": ("today", "model_age_days"),
        })
        macro = _validations(cur, "macro_ews", day, {
            "out-of-sample AUROC": ("out_of_sample", "auroc"),
            "relative usefulness": ("out_of_sample", "relative_usefulness"),
        })
        cur.execute(
            """select count(*), count(*) filter (where value >= threshold) from warning.indicator_values
               where indicator = 'access_activity_baseline' and as_of_date = %s""",
            (day,),
        )
        scored, over = cur.fetchone()
        cur.execute(
            "select count(*) from warning.alerts where indicator = 'access_activity_baseline' and as_of_date = %s", (day,)
        )
        access = {"users scored": float(scored), "over the threshold": float(over), "alerted": float(cur.fetchone()[0])}
        cur.execute(
            """select domain, episodes, episodes_detected, false_alarms_per_1000, median_lead_days, auroc
               from warning.evaluation_results order by domain"""
        )
        evaluation = cur.fetchall()
    return ReportData(day, cases, series, var_points, backtests, batches, dq_alerts, open_quarantine, credit, macro,
                      access, evaluation)
