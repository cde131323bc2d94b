"""Measure the alerts against the synthetic bank's ground truth (a file kept outside the warehouse).

Per domain: episodes in the span, how many were detected, false alarms per 1,000 entity-days and the median
lead time. An episode is detected by an alert on its entity dated from `LOOKBACK_DAYS` before its onset to
its end or its event, whichever is later (open-ended when neither is known yet). Lead time = event date − first
such alert (negative = late), for episodes whose event is known. Alerts on entities or days outside every
episode window are false alarms. Market stress is market-wide: a trading day with any market alert (regime,
VaR, drawdown; index or portfolio) counts once, per 1,000 trading days.

Access is measured per insider episode and per scored user-day (``evaluate_access``): recall, false alerts per
1,000 user-days, lead time before the exfiltration and the user-day AUROC of the risk score.

Credit is measured as a credit-risk team would (``evaluate_credit``): the defaulters are the loans that
defaulted while the PD model had been running at least ``CREDIT_MIN_LEAD_DAYS`` days; one is caught when a
loan-level alert fired at least that many days before its default; false alarms are loan-months with an alert
on a loan outside every default episode, per 1,000 loan-months on book; and the held-out AUC is the backtest
of every published PD against a default within the model's horizon (scores made before their outcomes).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import statistics
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg2.extensions

from warning_models.errors import TruthFileError

DOMAINS = ("credit", "market", "macro", "access")
LOOKBACK_DAYS = 30
MARKET_ENTITY = "MARKET"  # the truth's entity of a market-wide stress period
CREDIT_MIN_LEAD_DAYS = 30

# Entity-days the domain's alerts could have fired on: the denominator of the false-alarm rate.
ENTITY_DAYS_SQL = {
    "credit": "select count(*) from marts.fct_loan_days where performance_date between %s and %s and not is_default",
    "market": "select count(*) from marts.fct_market_index_days where price_date between %s and %s",
    "macro": "select count(distinct economy_code) * (%s::date - %s::date + 1) from marts.fct_credit_to_gdp_quarters",
}


@dataclass(frozen=True)
class Episode:
    episode_id: str
    domain: str
    entity_id: str
    onset_date: dt.date
    event_date: dt.date | None
    end_date: dt.date | None
    kind: str = ""  # the truth's episode kind (e.g. insider, quiet_insider)

    @property
    def window(self) -> tuple[dt.date, dt.date]:
        """Alerts on the entity in this window belong to the episode. Open episodes (no event or end yet) stay open."""
        known = [d for d in (self.event_date, self.end_date) if d is not None]
        return self.onset_date - dt.timedelta(days=LOOKBACK_DAYS), max(known) if known else dt.date.max


@dataclass(frozen=True)
class DomainEvaluation:
    domain: str
    episodes: int
    detected: int
    false_alarms: int
    entity_days: int
    median_lead_days: float | None
    lead_days: tuple[int, ...]
    entity_period: str = "entity-day"
    min_lead_days: int = 0
    auroc: float | None = None
    detail: tuple[tuple[str, Any], ...] = ()

    @property
    def recall_pct(self) -> float | None:
        return 100.0 * self.detected / self.episodes if self.episodes else None

    @property
    def false_alarms_per_1000(self) -> float | None:
        return 1000.0 * self.false_alarms / self.entity_days if self.entity_days else None


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def read_truth(path: Path) -> tuple[dict[str, Any], list[Episode]]:
    if not path.is_file():
        raise TruthFileError(f"no truth file at {path}: run `ews generate` (or `ews demo`) first")
    try:
        truth = json.loads(path.read_text(encoding="utf-8"))
        episodes = [
            Episode(
                e["episode_id"], e["domain"], e["entity_id"], _date(e["onset_date"]),  # type: ignore[arg-type]
                _date(e.get("event_date")), _date(e.get("end_date")), e.get("kind", ""),
            )
            for e in truth["episodes"]
        ]
    except (KeyError, TypeError, ValueError) as exc:
        raise TruthFileError(f"{path}: malformed truth file: {exc}") from exc
    return truth, episodes


def evaluate_domain(
    domain: str, episodes: list[Episode], alerts: list[tuple[str, dt.date]], entity_days: int, span: tuple[dt.date, dt.date]
) -> DomainEvaluation:
    """alerts: (entity_id, as_of_date) pairs of this domain's alerts."""
    start, end = span
    # Episodes the span could have caught: onset no later than the span's end, and not over before it began.
    scored = [e for e in episodes if e.onset_date <= end and e.window[1] >= start]
    by_entity: dict[str, list[dt.date]] = defaultdict(list)
    for entity, day in alerts:
        by_entity[entity].append(day)
    detected, leads = 0, []
    for e in scored:
        lo, hi = e.window
        hits = sorted(d for d in by_entity.get(e.entity_id, []) if lo <= d <= hi)
        if hits:
            detected += 1
            if e.event_date is not None:  # lead time needs the event; open episodes count for recall only
                leads.append((e.event_date - hits[0]).days)
    windows: dict[str, list[tuple[dt.date, dt.date]]] = defaultdict(list)
    for e in episodes:
        windows[e.entity_id].append(e.window)
    false_alarms = sum(
        1 for entity, day in alerts if not any(lo <= day <= hi for lo, hi in windows.get(entity, []))
    )
    return DomainEvaluation(
        domain, len(scored), detected, false_alarms, entity_days,
        float(statistics.median(leads)) if leads else None, tuple(leads),
    )


# Loan-months on book and not in default in the span: the denominator of credit false alarms.
_LOAN_MONTHS_SQL = """
    select count(distinct (loan_id, date_trunc('month', performance_date)))
    from marts.fct_loan_days where performance_date between %s and %s and not is_default
"""
# Every published PD whose horizon closed inside the data, with whether the loan defaulted within it.
_PD_BACKTEST_SQL = """
    with first_default as (
        select loan_id, min(performance_date) as default_date
        from marts.fct_loan_days where is_default group by loan_id
    )
    select c.pd, coalesce(d.default_date > c.as_of_date
                          and d.default_date <= c.as_of_date + %(horizon)s, false) as defaulted
    from warning.credit_loan_days c
    left join first_default d using (loan_id)
    where c.pd is not null and c.as_of_date between %(start)s and %(end)s
      and c.as_of_date + %(horizon)s <= (select max(performance_date) from marts.fct_loan_days)
"""


def evaluate_credit(
    conn: psycopg2.extensions.connection, episodes: list[Episode], span: tuple[dt.date, dt.date]
) -> DomainEvaluation:
    """Defaulters caught at least ``CREDIT_MIN_LEAD_DAYS`` ahead, false alarms per 1,000 loan-months, AUC."""
    from warning_models.credit.validation import auc
    from warning_models.indicators.credit_pd import CreditPdConfig

    horizon_days = CreditPdConfig.from_env().horizon_days  # the horizon the PDs were published for
    start, end = span
    with conn.cursor() as cur:
        cur.execute(
            "select entity_id, as_of_date from warning.alerts "
            "where domain = 'credit' and entity_type = 'loan' and as_of_date between %s and %s",
            span,
        )
        alerts = cur.fetchall()
        cur.execute("select min(as_of_date) from warning.credit_loan_days where as_of_date between %s and %s", span)
        live_from = cur.fetchone()[0]
        cur.execute(_LOAN_MONTHS_SQL, span)
        loan_months = int(cur.fetchone()[0] or 0)
        cur.execute(_PD_BACKTEST_SQL, {"horizon": horizon_days, "start": start, "end": end})
        scored = cur.fetchall()
    by_loan: dict[str, list[dt.date]] = defaultdict(list)
    for loan, day in alerts:
        by_loan[loan].append(day)
    lead = dt.timedelta(days=CREDIT_MIN_LEAD_DAYS)
    defaulters = [
        e for e in episodes
        if e.event_date is not None and live_from is not None and live_from + lead <= e.event_date <= end
    ]
    caught, leads = 0, []
    for e in defaulters:
        lo = e.window[0]
        hits = sorted(d for d in by_loan.get(e.entity_id, []) if lo <= d <= e.event_date)
        if hits:
            leads.append((e.event_date - hits[0]).days)
            caught += (e.event_date - hits[0]) >= lead
    windows: dict[str, list[tuple[dt.date, dt.date]]] = defaultdict(list)
    for e in episodes:
        windows[e.entity_id].append(e.window)
    false_months = {
        (loan, day.replace(day=1)) for loan, day in alerts
        if not any(lo <= day <= hi for lo, hi in windows.get(loan, []))
    }
    y = [bool(d) for _, d in scored]
    heldout_auc = auc(y, [float(p) for p, _ in scored]) if scored else None
    return DomainEvaluation(
        "credit", len(defaulters), caught, len(false_months), loan_months,
        float(statistics.median(leads)) if leads else None, tuple(leads),
        entity_period="loan-month", min_lead_days=CREDIT_MIN_LEAD_DAYS, auroc=heldout_auc,
        detail=(
            ("scored_from", live_from.isoformat() if live_from else None),
            ("defaults_after_scoring_began", len(defaulters)),
            ("episodes_in_truth", len(episodes)),
            ("pd_backtest_rows", len(scored)),
            ("pd_backtest_defaults", sum(y)),
        ),
    )


ACCESS_INDICATOR = "access_activity_baseline"
# Every scored user-day: the score the access indicator published for it.
_ACCESS_SCORES_SQL = """
    select entity_id, as_of_date, value from warning.indicator_values
    where indicator = %s and as_of_date between %s and %s
"""


def evaluate_access(
    conn: psycopg2.extensions.connection, episodes: list[Episode], span: tuple[dt.date, dt.date]
) -> DomainEvaluation:
    """Insider episodes caught, false alerts per 1,000 scored user-days, lead time and user-day AUROC.

    An episode runs from its onset to its end; it is caught by an alert on the user on one of those days (an alert
    before the onset is a false alarm: nothing had happened yet). Lead time = the exfiltration day (the truth's
    event, the first bulk export) minus the first alert, positive when the alert came first. The AUROC ranks every
    scored user-day by its risk score, the episode days of the insiders being the positives.
    """
    from warning_models.credit.validation import auc

    start, end = span
    with conn.cursor() as cur:
        cur.execute(
            "select entity_id, as_of_date from warning.alerts "
            "where domain = 'access' and indicator = %s and as_of_date between %s and %s",
            (ACCESS_INDICATOR, start, end),
        )
        alerts = cur.fetchall()
        cur.execute(_ACCESS_SCORES_SQL, (ACCESS_INDICATOR, start, end))
        scores = cur.fetchall()
    windows: dict[str, list[tuple[dt.date, dt.date]]] = defaultdict(list)
    for e in episodes:
        windows[e.entity_id].append((e.onset_date, e.end_date or e.event_date or end))

    def in_episode(user: str, day: dt.date) -> bool:
        return any(lo <= day <= hi for lo, hi in windows.get(user, []))

    scored_from = min((day for _, day, _ in scores), default=None)
    # episodes the scores could have caught: under way once scoring began, begun by the span's end
    catchable = [e for e in episodes if scored_from is not None and e.onset_date <= end
                       and (e.end_date or end) >= scored_from]
    by_user: dict[str, list[dt.date]] = defaultdict(list)
    for user, day in alerts:
        by_user[user].append(day)
    leads: list[int] = []
    missed: list[str] = []
    for e in catchable:
        hi = e.end_date or e.event_date or end
        hits = sorted(d for d in by_user.get(e.entity_id, []) if e.onset_date <= d <= hi)
        if not hits:
            missed.append(e.episode_id)
        elif e.event_date is not None:
            leads.append((e.event_date - hits[0]).days)
    false_alarms = sum(1 for user, day in alerts if not in_episode(user, day))
    labels = [in_episode(user, day) for user, day, _ in scores]
    user_day_auroc = auc(labels, [float(v) for *_, v in scores]) if any(labels) and not all(labels) else None
    return DomainEvaluation(
        "access", len(catchable), len(catchable) - len(missed), false_alarms, len(scores),
        float(statistics.median(leads)) if leads else None, tuple(leads),
        entity_period="user-day", auroc=user_day_auroc,
        detail=(
            ("scored_from", scored_from.isoformat() if scored_from else None),
            ("episode_user_days", sum(labels)),
            ("alerts", len(alerts)),
            ("episodes_in_truth", len(episodes)),
            ("missed", missed),
            ("detected_by_kind", {
                kind: f"{sum(1 for e in catchable if e.kind == kind and e.episode_id not in missed)} of "
                      f"{sum(1 for e in catchable if e.kind == kind)}"
                for kind in sorted({e.kind for e in catchable})
            }),
        ),
    )


def evaluate(conn: psycopg2.extensions.connection, truth_path: Path) -> list[DomainEvaluation]:
    """Evaluate every domain's alerts and store the figures in warning.evaluation_results (replacing a rerun)."""
    truth, episodes = read_truth(truth_path)
    span = (dt.date.fromisoformat(truth["span"]["start_date"]), dt.date.fromisoformat(truth["span"]["end_date"]))
    evaluation_id = hashlib.sha256(truth_path.read_bytes()).hexdigest()[:16]
    results: list[DomainEvaluation] = []
    with conn.cursor() as cur:
        for domain in DOMAINS:
            if domain in ("credit", "access"):
                evaluate_one = evaluate_credit if domain == "credit" else evaluate_access
                results.append(evaluate_one(conn, [e for e in episodes if e.domain == domain], span))
                continue
            cur.execute(
                "select entity_id, as_of_date from warning.alerts where domain = %s and as_of_date between %s and %s",
                (domain, *span),
            )
            alerts = [(r[0], r[1]) for r in cur.fetchall()]
            if domain == "market":
                # Market stress is market-wide: a day counts once, whichever index, portfolio or model alerted.
                alerts = sorted({(MARKET_ENTITY, day) for _, day in alerts})
            cur.execute(ENTITY_DAYS_SQL[domain], (span[1], span[0]) if domain == "macro" else span)
            entity_days = int(cur.fetchone()[0] or 0)
            result = evaluate_domain(domain, [e for e in episodes if e.domain == domain], alerts, entity_days, span)
            results.append(result)
        cur.execute("delete from warning.evaluation_results where evaluation_id = %s", (evaluation_id,))
        for r in results:
            cur.execute(
                """insert into warning.evaluation_results
                   (evaluation_id, domain, episodes, episodes_detected, recall_pct, false_alarms, entity_periods,
                    false_alarms_per_1000, median_lead_days, auroc, entity_period, min_lead_days, detail)
                   values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
                (
                    evaluation_id, r.domain, r.episodes, r.detected, r.recall_pct, r.false_alarms, r.entity_days,
                    r.false_alarms_per_1000, r.median_lead_days, r.auroc, r.entity_period, r.min_lead_days,
                    json.dumps({"lead_days": list(r.lead_days), "span": [d.isoformat() for d in span],
                                **({} if r.domain == "access" else {"lookback_days": LOOKBACK_DAYS}),
                                **dict(r.detail)}),
                ),
            )
    conn.commit()
    return results
