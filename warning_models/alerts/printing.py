"""What `ews alerts` prints: a table of cases, and one case in full (its days and the actions on it)."""

from __future__ import annotations

from collections.abc import Sequence

import psycopg2.extensions

from warning_models.alerts.lifecycle import SEVERITY_RANK, Case
from warning_models.summary import format_table


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def most_urgent_first(cases: Sequence[Case]) -> list[Case]:
    """The most severe first, then the most recently seen."""
    return sorted(cases, key=lambda c: (-SEVERITY_RANK[c.severity], -c.last_seen_date.toordinal(), c.case_id))


def cases_table(cases: Sequence[Case], explanation_width: int = 70) -> str:
    """One line per case, the most severe and most recent first."""
    rows = [
        (c.case_id, c.domain, c.status.value, c.severity + ("↑" if c.is_escalated else ""), c.first_seen_date,
         c.last_seen_date, c.alerted_days, _short(c.explanation, explanation_width))
        for c in most_urgent_first(cases)
    ]
    return format_table(["case", "domain", "status", "severity", "first seen", "last seen", "days", "latest"], rows)


def case_detail(conn: psycopg2.extensions.connection, case: Case) -> str:
    """Everything about one case: its state, each alerted day, the actions people took."""
    out = [
        f"case          {case.case_id}",
        f"entity        {case.entity_type} {case.entity_id} ({case.domain}, indicator {case.indicator})",
        f"status        {case.status.value} as of {case.as_of_date}"
        + (f", until {case.suppressed_until}" if case.suppressed_until else "")
        + (f", resolved {case.resolved_date}: {case.resolution}" if case.resolved_date else ""),
        f"severity      {case.severity} (highest {case.max_severity})" + (", escalated" if case.is_escalated else ""),
        f"seen          {case.first_seen_date} .. {case.last_seen_date}, {case.alerted_days} alerted day(s)",
        "",
        "days:",
    ]
    with conn.cursor() as cur:  # the case's days (a stored case does not carry them)
        cur.execute(
            """select as_of_date, severity, value, threshold from warning.alerts
               where indicator = %s and entity_id = %s and as_of_date between %s and %s order by as_of_date""",
            (case.indicator, case.entity_id, case.first_seen_date, case.last_seen_date),
        )
        days = cur.fetchall()
    for day, severity, value, threshold in days:
        out.append(f"  {day}  {severity:<6}  value {value:.4g} vs threshold {threshold:.4g}")
    out += ["", "latest explanation:", f"  {case.explanation}"]
    with conn.cursor() as cur:
        cur.execute(
            """select action, acted_by, acted_at, effective_date, note, suppress_until
               from warning.alert_actions where case_id = %s order by action_id""",
            (case.case_id,),
        )
        actions = cur.fetchall()
        cur.execute(
            "select state, channel, sent_at from warning.alert_notifications where case_id = %s order by sent_at",
            (case.case_id,),
        )
        notifications = cur.fetchall()
    if actions:
        out += ["", "actions:"]
        for action, by, at, effective, note, until in actions:
            out.append(f"  {at:%Y-%m-%d %H:%M} {action} by {by} (from {effective}"
                       + (f" until {until}" if until else "") + f"): {note}")
    if notifications:
        out += ["", "notified:"]
        out += [f"  {at:%Y-%m-%d %H:%M} {state} by {channel}" for state, channel, at in notifications]
    return "\n".join(out)
