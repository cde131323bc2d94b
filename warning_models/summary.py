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
            r.entity_period,
            fmt(r.median_lead_days),
            f">= {r.min_lead_days}" if r.min_lead_days else "any",
            fmt(r.auroc, 3),
        )
        for r in results
    ]
    return format_table(
        ["domain", "episodes", "detected", "recall_%", "false_alarms", "periods", "fa_per_1000", "period",
         "median_lead_days", "lead_needed", "auroc"],
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


def quarantine_table(entries: Sequence[Any]) -> str:
    """One line per quarantined batch: id, source, date, state, rules, file lines."""
    rows = [
        (e.batch_id, e.business_date, e.state, e.reason, ", ".join(e.rules), _lines(e.lines), e.file_name)
        for e in entries
    ]
    return format_table(["batch", "business date", "state", "reason", "rules", "lines", "file"], rows)


def _lines(lines: Sequence[int], at_most: int = 8) -> str:
    shown = ", ".join(map(str, lines[:at_most]))
    return shown + (f" (+{len(lines) - at_most})" if len(lines) > at_most else "") if lines else "-"


def quarantine_detail(entry: Any) -> str:
    """Everything about one quarantined batch: the file, each failed rule with its rows, the actions taken."""
    out = [
        f"batch       {entry.batch_id}",
        f"source      {entry.source}, business date {entry.business_date}",
        f"file        {entry.file_name}",
        f"state       {entry.state}" + (f" (by {entry.replaced_by})" if entry.replaced_by else ""),
        f"reason      {entry.reason}, quarantined {entry.quarantined_at:%Y-%m-%d %H:%M:%S %Z}",
        "",
        "failed rules:",
    ]
    for f in entry.failures:
        rule = f.get("check") or f.get("rule")
        count = f.get("unexpected_count")
        out.append(f"  - rule {rule} ({f.get('expectation', 'landing_contract')}, {f.get('severity', 'block')})"
                   + (f" on {f['column']}" if f.get("column") else "") + (f": {count} row(s)" if count else ""))
        if f.get("detail"):
            out.append(f"      {f['detail']}")
        if f.get("exception"):
            out.append(f"      error: {f['exception']}")
        for e in f.get("examples", [])[:10]:
            where = f"line {e['line']}" if e.get("line") is not None else "batch"
            values = ", ".join(f"{k}={v}" for k, v in e.items() if k not in ("line", "detail"))
            out.append(f"      {where}: {values}" if values else f"      {where}")
    if entry.actions:
        out += ["", "actions:"]
        out += [f"  {a['at']}  {a['action']:<11} by {a['by']}" + (f": {a['note']}" if a["note"] else "")
                + (f"  {a['outcome']}" if a["outcome"] else "") for a in entry.actions]
    return "\n".join(out)
