"""What the gate makes of GX's results: one description per batch and expectation, stored, and alerts raised.

Failing rows carry their batch_id, so a failure is charged only to the batches whose rows broke the rule; a
failure without rows (a table-level rule, an error) is charged to every batch validated together.
Descriptions are plain JSON: they go to audit.dq_results, quarantine.batches.failures and warning.alerts.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from typing import Any

import psycopg2.extensions
from psycopg2.extras import execute_values

from warning_models.errors import GateError

MAX_EXAMPLES = 10
_BOOKKEEPING = ("source_line", "batch_id", "failing_rows", "nth")


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def _examples(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {"line": row.get("source_line"), **{k: v for k, v in row.items() if k not in _BOOKKEEPING}}
        for row in rows[:MAX_EXAMPLES]
    ]


def _failing_rows(result: Any) -> list[dict[str, Any]]:
    """The rows that broke the expectation, each with its batch_id (and source_line when it has one)."""
    res = result.result or {}
    if res.get("unexpected_index_list"):
        return list(res["unexpected_index_list"])
    details = res.get("details") or {}
    if isinstance(details, dict) and details.get("unexpected_rows"):
        return [dict(r) for r in details["unexpected_rows"]]  # the gate's SQL checks (UnexpectedRowsExpectation)
    # multicolumn rules (key uniqueness) return the offending values, batch_id among them, instead of lines
    return [u for u in (res.get("unexpected_list") or []) if isinstance(u, dict) and "batch_id" in u]


def raised_exception(result: Any) -> str | None:
    """The error an expectation raised, if any (GX 1.x nests exception info per metric)."""
    info = result.exception_info
    if not isinstance(info, dict):
        return None
    candidates = [info, *(v for v in info.values() if isinstance(v, dict))]
    for c in candidates:
        if c.get("raised_exception"):
            return str(c.get("exception_message") or "unknown error")
    return None


def attributed_completely(result: Any) -> bool:
    """Whether every failing row GX counted came back with its batch (GX caps the rows it returns)."""
    if result.success:
        return True
    res = result.result or {}
    rows = _failing_rows(result)
    if not rows:
        return True  # a table-level failure: charged to every batch validated together
    total = res.get("unexpected_count")
    if total is None and isinstance(res.get("observed_value"), int):
        total = res["observed_value"]  # the gate's SQL checks: the number of (capped) failing rows
    return total is None or len(rows) >= int(total)


def _pair_column(kwargs: dict[str, Any]) -> str | None:
    """The data column of a column-pair rule (the other one is the batch's business date)."""
    pair = [kwargs.get("column_A"), kwargs.get("column_B")]
    return next((c for c in pair if c and c != "batch_business_date"), None)


def describe_per_batch(result: Any, batch_ids: list[str]) -> dict[str, dict[str, Any]]:
    """One expectation result over several batches, split into one description per batch."""
    config = result.expectation_config
    kwargs = {k: v for k, v in config.kwargs.items() if k not in ("batch_id", "result_format")}
    res = result.result or {}
    exception = raised_exception(result)
    if exception is not None:
        # A check that could not run judged nothing: never quarantine (or pass) a batch on it.
        raise GateError(config.type, str((config.meta or {}).get("check") or config.type), exception)
    rows = _failing_rows(result)
    by_batch: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_batch[str(row.get("batch_id", ""))].append(row)
    severity = "warn" if str(getattr(getattr(config, "severity", None), "value", "critical")) == "warning" else "block"
    check = (config.meta or {}).get("check") or config.type
    described = {}
    column = kwargs.get("column") or _pair_column(kwargs) or ",".join(kwargs.get("column_list", []))
    for batch_id in batch_ids:
        mine = sorted(by_batch.get(batch_id, []), key=lambda r: (r.get("source_line") is not None, r.get("source_line") or 0))
        failed = not result.success and (bool(mine) or not rows)
        count = mine[0].get("failing_rows", len(mine)) if mine and "failing_rows" in mine[0] else len(mine)
        described[batch_id] = _jsonable(
            {
                "check": check,
                "severity": severity,
                "expectation": config.type,
                "column": column,
                "kwargs": kwargs,
                "success": not failed,
                "observed_value": res.get("observed_value") if not rows else count,
                "unexpected_count": count if rows or result.success else res.get("unexpected_count"),
                "examples": _examples(mine),
                "exception": None,
            }
        )
    return described


def store_results(cur: psycopg2.extensions.cursor, batch_id: str, suite: str, results: list[dict[str, Any]]) -> None:
    """Replace the batch's stored expectation results (a re-validated batch keeps only its latest)."""
    cur.execute("delete from audit.dq_results where batch_id = %s", (batch_id,))
    rows = [
        (
            batch_id,
            suite,
            r["expectation"],
            r["column"] or "",
            json.dumps(r["kwargs"], sort_keys=True),
            r["success"],
            json.dumps(r["observed_value"]),
            r["unexpected_count"],
            json.dumps(r["examples"]),
            r["check"],
            r["severity"],
        )
        for r in results
    ]
    execute_values(
        cur,
        """insert into audit.dq_results (batch_id, suite_name, expectation_type, column_name, kwargs, success,
                                        observed_value, unexpected_count, unexpected_examples, check_name, severity)
           values %s on conflict do nothing""",
        rows,
    )


def explain(failure: dict[str, Any], source: str, file_name: str) -> str:
    """One line a data engineer can act on: file, lines, rule, what was seen."""
    lines = [e["line"] for e in failure.get("examples", []) if e.get("line") is not None]
    where = f"{file_name}" + (f", line(s) {', '.join(map(str, lines))}" if lines else " (the batch as a whole)")
    seen = failure["examples"][0] if failure.get("examples") else {"observed": failure.get("observed_value")}
    seen = {k: v for k, v in seen.items() if k != "line"}
    what = f"; error: {failure['exception']}" if failure.get("exception") else f"; e.g. {json.dumps(seen, default=str)}"
    count = failure.get("unexpected_count")
    return f"{where}: rule {failure['check']} ({failure['expectation']}, {failure['severity']}) failed" + (
        f" for {count} row(s)" if count else ""
    ) + what


def raise_alerts(
    cur: psycopg2.extensions.cursor, batch_id: str, source: str, business_date: dt.date, file_name: str,
    failures: list[dict[str, Any]],
) -> None:
    """One data_quality alert per failed check of the batch (high when it blocked, medium when it warned)."""
    cur.execute("delete from warning.alerts where domain = 'data_quality' and entity_id = %s", (batch_id,))
    rows = [
        (
            f"dq.{f['check']}" + (f".{f['column']}" if f.get("column") else "") + f":{batch_id}",
            business_date,
            "data_quality",
            "batch",
            batch_id,
            f"dq.{f['check']}",
            float(f.get("unexpected_count") or 1),
            0.0,
            "high" if f["severity"] == "block" else "medium",
            f"{source}: " + explain(f, source, file_name),
        )
        for f in failures
    ]
    rows = list({r[0]: r for r in rows}.values())  # one alert per check and column
    if rows:
        execute_values(
            cur,
            """insert into warning.alerts (alert_id, as_of_date, domain, entity_type, entity_id, indicator, value,
                                           threshold, severity, explanation)
               values %s on conflict (alert_id) do update set value = excluded.value, severity = excluded.severity,
               explanation = excluded.explanation""",
            rows,
        )
