"""What `ews` prints: plain-text tables of alerts, ingestion and evaluation figures."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import psycopg2.extensions

from warning_models.evaluate import DomainEvaluation


def format_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [[str(h) for h in headers]] + [["" if v is None else str(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def alert_summary(conn: psycopg2.extensions.connection, start: dt.date, end: dt.date) -> str:
    """Alerts per domain over a span: count, entities, days, high severity, latest example."""
    with conn.cursor() as cur:
        cur.execute(
            """select domain, count(*), count(distinct entity_id), count(distinct as_of_date),
                      count(*) filter (where severity = 'high'),
                      (array_agg(explanation order by as_of_date desc, value desc))[1]
               from warning.alerts where as_of_date between %s and %s
               group by domain order by domain""",
            (start, end),
        )
        rows = cur.fetchall()
    body = [(d, n, e, days, high, (ex or "")[:110]) for d, n, e, days, high, ex in rows]
    return format_table(["domain", "alerts", "entities", "days", "high", "latest explanation"], body)


def evaluation_table(results: Sequence[DomainEvaluation]) -> str:
    def fmt(value: float | None, digits: int = 1) -> str:
        return "n/a" if value is None else f"{value:.{digits}f}"

    rows = [
        (
            r.domain,
            r.episodes,
            r.detected,
            fmt(r.recall_pct),
            r.false_alarms,
            r.entity_days,
            fmt(r.false_alarms_per_1000, 2),
            fmt(r.median_lead_days),
        )
        for r in results
    ]
    return format_table(
        ["domain", "episodes", "detected", "recall_%", "false_alarms", "entity_days", "fa_per_1000", "median_lead_days"],
        rows,
    )


def batch_summary(conn: psycopg2.extensions.connection, start: dt.date, end: dt.date) -> str:
    with conn.cursor() as cur:
        cur.execute(
            """select source, count(*) filter (where status = 'passed'), count(*) filter (where status = 'quarantined'),
                      coalesce(sum(row_count) filter (where status = 'passed'), 0)
               from audit.batches where business_date between %s and %s group by source order by source""",
            (start, end),
        )
        rows = cur.fetchall()
    return format_table(["source", "batches_passed", "batches_quarantined", "rows_loaded"], rows)
