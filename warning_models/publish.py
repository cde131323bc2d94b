"""Write an indicator result to the warning tables, replacing what the same indicator wrote for that day.

Idempotent: the indicator's alerts, values and model run for the as-of date are deleted, then the new ones
inserted, all in the caller's transaction (``warehouse.connect`` commits). Rerunning a day gives the same rows.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from dataclasses import dataclass

import psycopg2.extensions
from psycopg2 import sql
from psycopg2.extras import Json, execute_values

from warning_models.indicators.base import IndicatorResult, jsonable

# The run's alerts (of every kind), values and own tables go with it (on delete cascade).
_DELETE = (
    "delete from warning.alerts where model_run_id = %s",
    "delete from warning.indicator_values where indicator = %s and as_of_date = %s",
    "delete from warning.model_runs where indicator = %s and as_of_date = %s",
)

_INSERT_RUN = """
    insert into warning.model_runs (model_run_id, indicator, domain, as_of_date, model_class, training_start,
                                    training_end, n_obs, params, fit_stats, data_hash)
    values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
"""

VALUE_COLUMNS = ("as_of_date", "domain", "indicator", "entity_type", "entity_id", "value", "threshold", "model_run_id")

_INSERT_ALERTS = """
    insert into warning.alerts (alert_id, as_of_date, domain, entity_type, entity_id, indicator, value, threshold,
                                severity, explanation, model_run_id)
    values %s
"""


@dataclass(frozen=True)
class PublishCounts:
    """How many rows one publish wrote."""

    model_runs: int
    indicator_values: int
    alerts: int
    table_rows: int = 0


def alert_id(indicator: str, entity_id: str, as_of: str) -> str:
    return f"{indicator}:{entity_id}:{as_of}"


def publish(conn: psycopg2.extensions.connection, result: IndicatorResult) -> PublishCounts:
    """Replace ``result.run.indicator``'s rows for ``result.run.as_of_date`` with ``result``; no commit."""
    run = result.run
    run_id = run.model_run_id
    key = (run.indicator, run.as_of_date)
    with conn.cursor() as cur:
        cur.execute(_DELETE[0], (run_id,))
        for statement in _DELETE[1:]:
            cur.execute(statement, key)
        cur.execute(
            _INSERT_RUN,
            (
                run_id,
                run.indicator,
                run.domain.value,
                run.as_of_date,
                run.model_class,
                run.training_start,
                run.training_end,
                run.n_obs,
                Json(jsonable(run.params)),
                Json(jsonable(run.fit_stats)),
                run.data_hash,
            ),
        )
        value_rows = [
            (
                run.as_of_date,
                run.domain.value,
                run.indicator,
                v.entity_type.value,
                v.entity_id,
                float(v.value),
                None if v.threshold is None else float(v.threshold),
                run_id,
            )
            for v in result.values
        ]
        copy_rows(cur, "warning", "indicator_values", VALUE_COLUMNS, value_rows)
        alert_rows = [
            (
                alert_id(a.kind or run.indicator, a.entity_id, run.as_of_date.isoformat()),
                run.as_of_date,
                run.domain.value,
                a.entity_type.value,
                a.entity_id,
                a.kind or run.indicator,
                float(a.value),
                float(a.threshold),
                a.severity.value,
                a.explanation,
                run_id,
            )
            for a in result.alerts
        ]
        if alert_rows:
            execute_values(cur, _INSERT_ALERTS, alert_rows, page_size=1000)
        table_rows = 0
        for rows in result.tables:
            if rows.rows:
                schema, table = rows.table.split(".")
                # rows that do not name their run get this one's
                columns, prefix = (
                    (rows.columns, ()) if "model_run_id" in rows.columns else (("model_run_id", *rows.columns), (run_id,))
                )
                copy_rows(cur, schema, table, columns, [jsonable_row((*prefix, *r)) for r in rows.rows])
                table_rows += len(rows.rows)
    return PublishCounts(1, len(value_rows), len(alert_rows), table_rows)


def jsonable_row(row: tuple[object, ...]) -> tuple[object, ...]:
    """numpy scalars as Python numbers, non-finite floats as NULL (dates and text pass through)."""
    return tuple(
        v if isinstance(v, (str, dt.date)) or v is None else jsonable(v) for v in row
    )


def _copy_text(value: object) -> str:
    """One value in COPY's text format: \\N for NULL, the escapes of tab, newline, carriage return, backslash."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, (dict, list)):
        value = json.dumps(value)
    elif isinstance(value, float):
        value = repr(value)
    text = str(value)
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        text = text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return text


def copy_rows(
    cur: psycopg2.extensions.cursor, schema: str, table: str, columns: tuple[str, ...], rows: list[tuple[object, ...]]
) -> int:
    """Insert rows with COPY (a million rows in seconds, where INSERT ... VALUES takes a minute)."""
    if not rows:
        return 0
    body = "\n".join("\t".join(_copy_text(v) for v in row) for row in rows) + "\n"
    statement = sql.SQL("copy {} ({}) from stdin").format(
        sql.Identifier(schema, table), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    cur.copy_expert(statement.as_string(cur), io.StringIO(body))
    return len(rows)

