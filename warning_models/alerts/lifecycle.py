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
    previous = case.severity if case.alerted_days else None  # the case's last alerted day
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
        cases += _extend(None, days, by_case, as_of, auto)
    for case in cases:
        _settle_status(case, by_case.get(case.case_id, []), as_of, auto)
    return sorted(cases, key=lambda c: (c.domain, c.indicator, c.entity_id, c.first_seen_date))


def _extend(
    current: Case | None, days: list[DailyAlert], by_case: dict[str, list[Action]], as_of: dt.date, auto: int
) -> list[Case]:
    """A series' cases from its alerts of later days: ``current`` (its latest case, if not resolved) goes on while
    the condition holds; a person's resolution or a gap of more than ``auto`` days opens a new case."""
    cases: list[Case] = []
    for alert in sorted(days, key=lambda a: a.as_of_date):
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
    return cases


def _unsettle(case: Case) -> None:
    """Forget what ``_settle_status`` derived, so a stored case settles again as a new one would."""
    case.resolved_date = case.resolution = case.acknowledged_by = case.acknowledged_at = None
    case.suppressed_until = case.last_action_by = case.last_action_note = None


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
    """The cases as they stood on ``as_of`` (default: the latest business date): the stored ones when they are of
    that day (their daily alerts not loaded), else computed from the alerts and actions up to it."""
    latest = latest_business_date(conn)
    as_of = as_of or latest
    if as_of is None:
        return []
    if as_of == latest and stored_as_of(conn) == latest:
        cases = stored_cases(conn)
        for case in cases:
            case.as_of_date = as_of  # a resolved case keeps the day it was last settled; its state is the same
        return sorted(cases, key=lambda c: (c.domain, c.indicator, c.entity_id, c.first_seen_date))
    return _derived(conn, as_of, config)


def _derived(conn: psycopg2.extensions.connection, as_of: dt.date, config: LifecycleConfig | None) -> list[Case]:
    alerts, actions = read_cases_inputs(conn, as_of)
    return derive_cases(alerts, actions, as_of, config or LifecycleConfig.from_env())


def settle_case(conn: psycopg2.extensions.connection, case_id: str, config: LifecycleConfig | None = None) -> Case:
    """Settle one stored case again after someone acted on it (its days are unchanged: only its status and who
    did what move), in the caller's transaction; the cases are rebuilt when they are not of the latest day."""
    config = config or LifecycleConfig.from_env()
    as_of = latest_business_date(conn)
    if as_of is None or stored_as_of(conn) != as_of:
        return next(c for c in refresh_cases(conn, config) if c.case_id == case_id)
    [case] = stored_cases(conn, "case_id = %s", (case_id,))
    with conn.cursor() as cur:
        cur.execute(_ACTIONS_SQL.replace("order by", "where case_id = %s order by"), (case_id,))
        actions = [Action(r[0], ActionKind(r[1]), *r[2:]) for r in cur.fetchall()]
        _unsettle(case)
        case.as_of_date = as_of
        _settle_status(case, [a for a in actions if a.effective_date <= as_of], as_of, config.auto_resolve_after_days)
        cur.execute("delete from warning.alert_cases where case_id = %s", (case_id,))
        _write(cur, [case])
    return case


def refresh_cases(conn: psycopg2.extensions.connection, config: LifecycleConfig | None = None) -> list[Case]:
    """Rebuild ``warning.alert_cases`` as of the latest business date from every alert, in the caller's
    transaction (what a correction of past days needs; the daily run extends the cases: ``extend_cases``)."""
    as_of = latest_business_date(conn)
    cases = [] if as_of is None else _derived(conn, as_of, config)
    with conn.cursor() as cur:
        cur.execute("delete from warning.alert_cases")
        _write(cur, cases)
    return cases


def _write(cur: psycopg2.extensions.cursor, cases: list[Case]) -> None:
    if cases:
        execute_values(
            cur,
            f"insert into warning.alert_cases ({', '.join(CASE_COLUMNS)}) values %s",
            [c.row() for c in cases],
            page_size=1000,
        )


_STORED_SQL = f"select {', '.join(CASE_COLUMNS)} from warning.alert_cases"


def stored_cases(conn: psycopg2.extensions.connection, where: str = "true", params: tuple[Any, ...] = ()) -> list[Case]:
    """The cases as the last refresh stored them (their daily alerts not loaded)."""
    with conn.cursor() as cur:
        cur.execute(f"{_STORED_SQL} where {where}", params)
        rows = cur.fetchall()
    out = []
    for row in rows:
        values = dict(zip(CASE_COLUMNS, row))
        values["status"] = Status(values["status"])
        out.append(Case(**values))
    return out


def stored_as_of(conn: psycopg2.extensions.connection) -> dt.date | None:
    """The business date of the cases' last refresh (the newest state a case was stored with)."""
    with conn.cursor() as cur:
        cur.execute("select max(as_of_date) from warning.alert_cases")
        return cur.fetchone()[0]


def extend_cases(
    conn: psycopg2.extensions.connection, since: dt.date, config: LifecycleConfig | None = None
) -> int:
    """Bring the stored cases to the latest business date when the alerts changed only from ``since`` on and
    ``since`` is after the last refresh (the daily run): the open cases go on with the new days' alerts, new ones
    open, every case not yet resolved settles its status. Its cost is the new alerts and the open cases, not the
    history. Anything else (a correction of days already folded in) rebuilds every case. The cases changed."""
    config = config or LifecycleConfig.from_env()
    as_of = latest_business_date(conn)
    last = stored_as_of(conn)
    if as_of is None:
        return 0
    if last is None or since <= last:
        return len(refresh_cases(conn, config))
    auto = config.auto_resolve_after_days
    with conn.cursor() as cur:
        cur.execute(_ALERTS_SQL.replace("where as_of_date <= %s", "where as_of_date > %s and as_of_date <= %s"),
                    (last, as_of))
        new_alerts = [DailyAlert(*row) for row in cur.fetchall()]
        cur.execute(_ACTIONS_SQL)
        actions = [Action(r[0], ActionKind(r[1]), *r[2:]) for r in cur.fetchall()]
    by_case: dict[str, list[Action]] = defaultdict(list)
    for a in sorted(actions, key=lambda a: (a.acted_at, a.effective_date)):
        if a.effective_date <= as_of:
            by_case[a.case_id].append(a)
    open_cases = {(c.indicator, c.entity_id): c for c in stored_cases(conn, "status <> %s", (Status.RESOLVED.value,))}
    series: dict[tuple[str, str], list[DailyAlert]] = defaultdict(list)
    for alert in new_alerts:
        series[(alert.indicator, alert.entity_id)].append(alert)
    changed: dict[str, Case] = {}
    for key in set(series) | set(open_cases):
        current = open_cases.get(key)
        if current is not None:
            _unsettle(current)
        for case in _extend(current, series.get(key, []), by_case, as_of, auto):
            case.as_of_date = as_of
            _settle_status(case, by_case.get(case.case_id, []), as_of, auto)
            changed[case.case_id] = case
    with conn.cursor() as cur:
        cur.execute("delete from warning.alert_cases where case_id = any(%s)", (list(changed),))
        _write(cur, list(changed.values()))
    return len(changed)
