"""The alert lifecycle: the daily alerts of one entity and indicator become one case.

The indicators write one alert per entity, indicator and day (``warning.alerts``). A case gathers the days of one
entity and indicator while the condition holds; its severity and last-seen date follow the latest day. It is:

- ``new`` on its first day, ``open`` after;
- ``acknowledged`` once someone acknowledged it (``ews alerts ack``);
- ``resolved`` once someone resolved it, or when the condition has been clear (no alert) for
  ``auto_resolve_after_days`` days (0: never automatically); an alert after that opens a new case;
- ``suppressed`` while someone's suppression holds (until a date, or until lifted): its alerts still update it,
  but it notifies nobody.

The cases are derived from the daily alerts and the recorded actions (``warning.alert_actions``, append-only),
never updated in place: rebuilding them after any rerun or backfill gives the same cases.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field, fields
from enum import StrEnum
from typing import Any

import psycopg2.extensions
from psycopg2.extras import execute_values

from warning_models.indicators.base import config_from_env

SEVERITY_RANK = {"low": 0, "medium": 1, "high": 2}


class Status(StrEnum):
    NEW = "new"
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    SUPPRESSED = "suppressed"


class ActionKind(StrEnum):
    ACKNOWLEDGE = "acknowledge"
    RESOLVE = "resolve"
    SUPPRESS = "suppress"
    UNSUPPRESS = "unsuppress"


ACTIVE_STATUSES = (Status.NEW, Status.OPEN, Status.ACKNOWLEDGED)


@dataclass(frozen=True)
class LifecycleConfig:
    """Settings of the lifecycle; each can be set with ``EWS_ALERTS_<FIELD>``."""

    auto_resolve_after_days: int = 3  # days without an alert that resolve a case; 0: only people resolve

    @classmethod
    def from_env(cls) -> "LifecycleConfig":
        return config_from_env(cls, "ALERTS")

    def __post_init__(self) -> None:
        if self.auto_resolve_after_days < 0:
            raise ValueError("auto_resolve_after_days must be >= 0")


@dataclass(frozen=True)
class DailyAlert:
    alert_id: str
    as_of_date: dt.date
    domain: str
    entity_type: str
    entity_id: str
    indicator: str
    value: float
    threshold: float
    severity: str
    explanation: str


@dataclass(frozen=True)
class Action:
    case_id: str
    action: ActionKind
    acted_by: str
    acted_at: dt.datetime
    effective_date: dt.date
    note: str
    suppress_until: dt.date | None = None


@dataclass
class Case:
    case_id: str
    domain: str
    indicator: str
    entity_type: str
    entity_id: str
    status: Status
    severity: str
    max_severity: str
    is_escalated: bool
    first_seen_date: dt.date
    last_seen_date: dt.date
    alerted_days: int
    value: float
    threshold: float
    explanation: str
    latest_alert_id: str
    as_of_date: dt.date
    resolved_date: dt.date | None = None
    resolution: str | None = None
    acknowledged_by: str | None = None
    acknowledged_at: dt.datetime | None = None
    suppressed_until: dt.date | None = None
    last_action_by: str | None = None
    last_action_note: str | None = None
    days: list[DailyAlert] = field(default_factory=list, repr=False)

    def row(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in CASE_COLUMNS)


CASE_COLUMNS = tuple(f.name for f in fields(Case) if f.name != "days")


def case_id_for(indicator: str, entity_id: str, first_seen: dt.date) -> str:
    return f"{indicator}:{entity_id}:{first_seen.isoformat()}"


def _open_case(alert: DailyAlert, as_of: dt.date) -> Case:
    return Case(
        case_id=case_id_for(alert.indicator, alert.entity_id, alert.as_of_date),
        domain=alert.domain, indicator=alert.indicator, entity_type=alert.entity_type, entity_id=alert.entity_id,
        status=Status.NEW, severity=alert.severity, max_severity=alert.severity, is_escalated=False,
        first_seen_date=alert.as_of_date, last_seen_date=alert.as_of_date, alerted_days=0, value=alert.value,
        threshold=alert.threshold, explanation=alert.explanation, latest_alert_id=alert.alert_id, as_of_date=as_of,
    )


def _add_day(case: Case, alert: DailyAlert) -> None:
    previous = case.days[-1].severity if case.days else None
    case.days.append(alert)
    case.alerted_days += 1
    case.last_seen_date = alert.as_of_date
    case.severity, case.value, case.threshold = alert.severity, alert.value, alert.threshold
    case.explanation, case.latest_alert_id = alert.explanation, alert.alert_id
    case.is_escalated = previous is not None and SEVERITY_RANK[alert.severity] > SEVERITY_RANK[previous]
    if SEVERITY_RANK[alert.severity] > SEVERITY_RANK[case.max_severity]:
        case.max_severity = alert.severity


def _resolved_by_person(actions: list[Action]) -> Action | None:
    return next((a for a in reversed(actions) if a.action is ActionKind.RESOLVE), None)


def derive_cases(
    alerts: list[DailyAlert], actions: list[Action], as_of: dt.date, config: LifecycleConfig = LifecycleConfig()
) -> list[Case]:
    """Every case as of ``as_of`` from the daily alerts up to that day and the actions that took effect by then."""
    by_case: dict[str, list[Action]] = defaultdict(list)
    for a in sorted(actions, key=lambda a: (a.acted_at, a.effective_date)):
        if a.effective_date <= as_of:
            by_case[a.case_id].append(a)
    series: dict[tuple[str, str], list[DailyAlert]] = defaultdict(list)
    for alert in alerts:
        if alert.as_of_date <= as_of:
            series[(alert.indicator, alert.entity_id)].append(alert)
    auto = config.auto_resolve_after_days
    cases: list[Case] = []
    for days in series.values():
        days.sort(key=lambda a: a.as_of_date)
        current: Case | None = None
        for alert in days:
            if current is not None:
                resolved = _resolved_by_person(by_case.get(current.case_id, []))
                gap = (alert.as_of_date - current.last_seen_date).days
                if (resolved is not None and resolved.effective_date < alert.as_of_date) or (auto and gap > auto):
                    cases.append(current)
                    current = None
            if current is None:
                current = _open_case(alert, as_of)
            _add_day(current, alert)
        if current is not None:
            cases.append(current)
    for case in cases:
        _settle_status(case, by_case.get(case.case_id, []), as_of, auto)
    return sorted(cases, key=lambda c: (c.domain, c.indicator, c.entity_id, c.first_seen_date))


def _settle_status(case: Case, actions: list[Action], as_of: dt.date, auto: int) -> None:
    """The case's status on ``as_of`` from its days and the people's actions."""
    if actions:
        case.last_action_by, case.last_action_note = actions[-1].acted_by, actions[-1].note
    acknowledged = next((a for a in actions if a.action is ActionKind.ACKNOWLEDGE), None)
    if acknowledged is not None:
        case.acknowledged_by, case.acknowledged_at = acknowledged.acted_by, acknowledged.acted_at
    resolved = _resolved_by_person(actions)
    suppression = next((a for a in reversed(actions) if a.action in (ActionKind.SUPPRESS, ActionKind.UNSUPPRESS)), None)
    if resolved is not None:
        case.status, case.resolved_date, case.resolution = Status.RESOLVED, resolved.effective_date, resolved.note
    elif auto and (as_of - case.last_seen_date).days >= auto:
        case.status = Status.RESOLVED
        case.resolved_date = case.last_seen_date + dt.timedelta(days=auto)
        case.resolution = f"condition cleared for {auto} day(s)"
    elif (
        suppression is not None
        and suppression.action is ActionKind.SUPPRESS
        and (suppression.suppress_until is None or suppression.suppress_until >= as_of)
    ):
        case.status, case.suppressed_until = Status.SUPPRESSED, suppression.suppress_until
    elif acknowledged is not None:
        case.status = Status.ACKNOWLEDGED
    elif case.first_seen_date == as_of:
        case.status = Status.NEW
    else:
        case.status = Status.OPEN


# ------------------------------------------------------------------------------------------------ warehouse

_ALERTS_SQL = """
    select alert_id, as_of_date, domain, entity_type, entity_id, indicator, value, threshold, severity, explanation
    from warning.alerts where as_of_date <= %s
"""
_ACTIONS_SQL = """
    select case_id, action, acted_by, acted_at, effective_date, note, suppress_until
    from warning.alert_actions order by action_id
"""


def latest_business_date(conn: psycopg2.extensions.connection) -> dt.date | None:
    """The latest business date the indicators ran for: the day the cases' state is for."""
    with conn.cursor() as cur:
        cur.execute("select greatest(max(as_of_date), (select max(as_of_date) from warning.alerts)) from warning.model_runs")
        (day,) = cur.fetchone()
    return day


def read_cases_inputs(conn: psycopg2.extensions.connection, as_of: dt.date) -> tuple[list[DailyAlert], list[Action]]:
    with conn.cursor() as cur:
        cur.execute(_ALERTS_SQL, (as_of,))
        alerts = [DailyAlert(*row) for row in cur.fetchall()]
        cur.execute(_ACTIONS_SQL)
        actions = [Action(r[0], ActionKind(r[1]), *r[2:]) for r in cur.fetchall()]
    return alerts, actions


def cases_as_of(
    conn: psycopg2.extensions.connection, as_of: dt.date | None = None, config: LifecycleConfig | None = None
) -> list[Case]:
    """The cases as they stood on ``as_of`` (default: the latest business date), computed, not stored."""
    as_of = as_of or latest_business_date(conn)
    if as_of is None:
        return []
    alerts, actions = read_cases_inputs(conn, as_of)
    return derive_cases(alerts, actions, as_of, config or LifecycleConfig.from_env())


def refresh_cases(conn: psycopg2.extensions.connection, config: LifecycleConfig | None = None) -> list[Case]:
    """Rebuild ``warning.alert_cases`` as of the latest business date, in the caller's transaction."""
    cases = cases_as_of(conn, None, config)
    with conn.cursor() as cur:
        cur.execute("delete from warning.alert_cases")
        if cases:
            execute_values(
                cur,
                f"insert into warning.alert_cases ({', '.join(CASE_COLUMNS)}) values %s",
                [c.row() for c in cases],
                page_size=1000,
            )
    return cases
