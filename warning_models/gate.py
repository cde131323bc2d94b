"""The quality gate: validate a loaded batch with its GX suite, store the results, pass or quarantine it.

A batch that fails is moved out of raw into quarantine (with its file and the failed expectations, row lines
included), so it never reaches dbt; batches of other sources and days go on.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import io
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg2.extensions
from psycopg2 import sql

from warning_models.errors import BatchNotFoundError
from warning_models.privacy import disable_telemetry

if TYPE_CHECKING:
    from great_expectations.data_context import AbstractDataContext

log = logging.getLogger(__name__)

MAX_EXAMPLES = 10


@dataclass
class GateResult:
    batch_id: str
    source: str
    business_date: dt.date
    passed: bool
    evaluated: int
    failures: list[dict[str, Any]] = field(default_factory=list)


def _sqlalchemy_url(url: str) -> str:
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg2://" + url[len(prefix) :]
    return url


@functools.lru_cache(maxsize=4)
def _context(url: str) -> tuple["AbstractDataContext", Any]:
    """One ephemeral GX context and Postgres data source per process and warehouse."""
    disable_telemetry()
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    datasource = context.data_sources.add_or_update_postgres(name="warehouse", connection_string=_sqlalchemy_url(url))
    return context, datasource


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def _describe(result: Any) -> dict[str, Any]:
    config = result.expectation_config
    kwargs = {k: v for k, v in config.kwargs.items() if k not in ("batch_id", "result_format")}
    res = result.result or {}
    examples = [
        {"line": row.get("source_line"), **{k: v for k, v in row.items() if k != "source_line"}}
        for row in (res.get("unexpected_index_list") or [])[:MAX_EXAMPLES]
    ]
    if not examples and res.get("partial_unexpected_list"):
        examples = [{"value": v} for v in res["partial_unexpected_list"][:MAX_EXAMPLES]]
    return _jsonable(
        {
            "expectation": config.type,
            "column": kwargs.get("column", ""),
            "kwargs": kwargs,
            "success": bool(result.success),
            "observed_value": res.get("observed_value"),
            "unexpected_count": res.get("unexpected_count"),
            "examples": examples,
            "exception": (result.exception_info or {}).get("exception_message")
            if isinstance(result.exception_info, dict) and result.exception_info.get("raised_exception")
            else None,
        }
    )


def run_suite(
    conn: psycopg2.extensions.connection, url: str, source: str, business_date: dt.date, batch_id: str
) -> list[dict[str, Any]]:
    """Validate the raw rows of one batch; return one description per expectation."""
    import great_expectations as gx

    from expectations import build_suite

    context, datasource = _context(url)
    suite = context.suites.add_or_update(build_suite(source, business_date))
    asset_name = f"{source}_batch"
    try:
        datasource.delete_asset(asset_name)
    except LookupError:
        pass
    query = sql.SQL("select * from {} where batch_id = {}").format(sql.Identifier("raw", source), sql.Literal(batch_id))
    asset = datasource.add_query_asset(name=asset_name, query=query.as_string(conn))
    batch_definition = asset.add_batch_definition_whole_table("batch")
    validation = context.validation_definitions.add_or_update(
        gx.ValidationDefinition(name=f"validate_{source}", data=batch_definition, suite=suite)
    )
    outcome = validation.run(
        result_format={
            "result_format": "COMPLETE",
            "unexpected_index_column_names": ["source_line"],
            "partial_unexpected_count": MAX_EXAMPLES,
            "include_unexpected_rows": False,
        }
    )
    return [_describe(r) for r in outcome.results]


def _store_results(cur: psycopg2.extensions.cursor, batch_id: str, suite: str, results: list[dict[str, Any]]) -> None:
    cur.execute("delete from audit.dq_results where batch_id = %s", (batch_id,))
    for r in results:
        cur.execute(
            """insert into audit.dq_results (batch_id, suite_name, expectation_type, column_name, kwargs, success,
                                            observed_value, unexpected_count, unexpected_examples)
               values (%s, %s, %s, %s, %s, %s, %s, %s, %s)
               on conflict do nothing""",
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
            ),
        )


def _batch_file_bytes(cur: psycopg2.extensions.cursor, source: str, batch_id: str, file_name: str, checksum: str) -> bytes:
    """The batch's original file if it is still there unchanged, else its rows exported from raw as CSV."""
    path = Path(file_name)
    if path.is_file():
        content = path.read_bytes()
        if hashlib.sha256(content).hexdigest() == checksum:
            return content
    from warning_models.contract import get_source

    columns = sql.SQL(", ").join(sql.Identifier(c) for c in get_source(source).column_names)
    buffer = io.BytesIO()
    cur.copy_expert(
        sql.SQL("copy (select {} from {} where batch_id = {} order by source_line) to stdout with (format csv, header)")
        .format(columns, sql.Identifier("raw", source), sql.Literal(batch_id))
        .as_string(cur),
        buffer,
    )
    return buffer.getvalue()


def gate_batch(conn: psycopg2.extensions.connection, url: str, batch_id: str) -> GateResult:
    """Validate one loaded batch; mark it passed, or move it to quarantine. Idempotent for decided batches."""
    from expectations import suite_name

    with conn.cursor() as cur:
        cur.execute(
            "select source, business_date, status, file_name, file_checksum from audit.batches where batch_id = %s",
            (batch_id,),
        )
        row = cur.fetchone()
    if row is None:
        raise BatchNotFoundError(f"no batch {batch_id!r} in audit.batches")
    source, business_date, status, file_name, checksum = row
    if status != "loaded":  # already decided (passed, quarantined or superseded): nothing to do
        conn.commit()
        return GateResult(batch_id, source, business_date, status == "passed", 0)
    results = run_suite(conn, url, source, business_date, batch_id)
    failures = [r for r in results if not r["success"]]
    suite = suite_name(source)
    with conn.cursor() as cur:
        _store_results(cur, batch_id, suite, results)
        if not failures:
            cur.execute("update audit.batches set status = 'passed', validated_at = now() where batch_id = %s", (batch_id,))
        else:
            content = _batch_file_bytes(cur, source, batch_id, file_name, checksum)
            for f in failures:
                f["file"] = file_name
            cur.execute(
                """insert into quarantine.batches (batch_id, source, business_date, file_name, file_content, reason, failures)
                   values (%s, %s, %s, %s, %s, 'expectations', %s)
                   on conflict (batch_id) do update set failures = excluded.failures, released_at = null""",
                (batch_id, source, business_date, file_name, psycopg2.Binary(content), json.dumps(failures)),
            )
            cur.execute(sql.SQL("delete from {} where batch_id = %s").format(sql.Identifier("raw", source)), (batch_id,))
            cur.execute(
                "update audit.batches set status = 'quarantined', validated_at = now(), detail = %s where batch_id = %s",
                (json.dumps({"failed_expectations": [f["expectation"] for f in failures]}), batch_id),
            )
            log.warning("batch %s quarantined: %s", batch_id, ", ".join(f["expectation"] for f in failures))
    conn.commit()
    return GateResult(batch_id, source, business_date, not failures, len(results), failures)
