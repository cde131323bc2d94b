"""Measure the alerts against the synthetic bank's ground truth (a file kept outside the warehouse).

Per domain: episodes in the span, how many were detected, false alarms per 1,000 entity-days and the median
lead time. An episode is detected by an alert on its entity dated from `LOOKBACK_DAYS` before its onset to
its end or its event, whichever is later (open-ended when neither is known yet). Lead time = event date − first such alert (negative = late), for episodes whose event is known.
Alerts on entities or days outside every episode window are false alarms.
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

# Entity-days the domain's alerts could have fired on: the denominator of the false-alarm rate.
ENTITY_DAYS_SQL = {
    "credit": "select count(*) from marts.fct_loan_days where performance_date between %s and %s and not is_default",
    "market": "select count(*) from marts.fct_market_index_days where price_date between %s and %s",
    "macro": "select count(distinct economy_code) * (%s::date - %s::date + 1) from marts.fct_credit_to_gdp_quarters",
    "access": "select count(*) from marts.fct_user_days where activity_date between %s and %s",
}


@dataclass(frozen=True)
class Episode:
    episode_id: str
    domain: str
    entity_id: str
    onset_date: dt.date
    event_date: dt.date | None
    end_date: dt.date | None

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
                _date(e.get("event_date")), _date(e.get("end_date")),
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


def evaluate(conn: psycopg2.extensions.connection, truth_path: Path) -> list[DomainEvaluation]:
    """Evaluate every domain's alerts and store the figures in warning.evaluation_results (replacing a rerun)."""
    truth, episodes = read_truth(truth_path)
    span = (dt.date.fromisoformat(truth["span"]["start_date"]), dt.date.fromisoformat(truth["span"]["end_date"]))
    evaluation_id = hashlib.sha256(truth_path.read_bytes()).hexdigest()[:16]
    results: list[DomainEvaluation] = []
    with conn.cursor() as cur:
        for domain in DOMAINS:
            cur.execute(
                "select entity_id, as_of_date from warning.alerts where domain = %s and as_of_date between %s and %s",
                (domain, *span),
            )
            alerts = [(r[0], r[1]) for r in cur.fetchall()]
            cur.execute(ENTITY_DAYS_SQL[domain], (span[1], span[0]) if domain == "macro" else span)
            entity_days = int(cur.fetchone()[0] or 0)
            result = evaluate_domain(domain, [e for e in episodes if e.domain == domain], alerts, entity_days, span)
            results.append(result)
        cur.execute("delete from warning.evaluation_results where evaluation_id = %s", (evaluation_id,))
        for r in results:
            cur.execute(
                """insert into warning.evaluation_results
                   (evaluation_id, domain, episodes, episodes_detected, recall_pct, false_alarms, entity_periods,
                    false_alarms_per_1000, median_lead_days, detail)
                   values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
                (
                    evaluation_id, r.domain, r.episodes, r.detected, r.recall_pct, r.false_alarms, r.entity_days,
                    r.false_alarms_per_1000, r.median_lead_days,
                    json.dumps({"lead_days": list(r.lead_days), "span": [d.isoformat() for d in span],
                                "lookback_days": LOOKBACK_DAYS, "entity_period": "entity-day"}),
                ),
            )
    conn.commit()
    return results
