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
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit
from typing import TYPE_CHECKING, Any

import psycopg2.extensions
from psycopg2 import sql

from warning_models.contract import ColumnType, get_source
from warning_models.errors import BatchNotFoundError
from warning_models.privacy import disable_telemetry

if TYPE_CHECKING:
    from great_expectations.data_context import AbstractDataContext

log = logging.getLogger(__name__)

MAX_EXAMPLES = 10
CHUNK = 40  # batches of one source validated together (GX costs ~0.5 s of Python per validation)


@dataclass
class GateResult:
    batch_id: str
    source: str
    business_date: dt.date
    passed: bool
    evaluated: int
    failures: list[dict[str, Any]] = field(default_factory=list)


def _sqlalchemy_url(url: str) -> str:
    """The warehouse URL as SQLAlchemy (and GX's URL validation) want it.

    The embedded warehouse's URL names no host, only a socket folder (`postgresql://postgres:@/postgres?host=/dir`);
    GX rejects an empty host, so a placeholder host is set: libpq's `host` query parameter still wins.
    """
    parsed = urlsplit(url)
    netloc = parsed.netloc
    if not parsed.hostname and "host=" in parsed.query:
        netloc = (netloc[:-1] if netloc.endswith("@") else netloc) + ("@" if "@" in netloc else "") + "localhost"
    return urlunsplit(("postgresql+psycopg2", netloc, parsed.path, parsed.query, parsed.fragment))


@functools.lru_cache(maxsize=4)
def _context(url: str) -> tuple["AbstractDataContext", Any]:
    """One ephemeral GX context and Postgres data source per process and warehouse."""
    disable_telemetry()
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    logging.getLogger("great_expectations").setLevel(logging.WARNING)  # it logs every temp folder at INFO
    context = gx.get_context(mode="ephemeral")
    context.enable_analytics(False)  # besides GX_ANALYTICS_ENABLED=False: a bank's pipeline never calls out
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    datasource = context.data_sources.add_or_update_postgres(name="warehouse", connection_string=_sqlalchemy_url(url))
    return context, datasource


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def _failure_examples(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {"line": row.get("source_line"), **{k: v for k, v in row.items() if k not in ("source_line", "batch_id")}}
        for row in rows[:MAX_EXAMPLES]
    ]


def _describe_per_batch(result: Any, batch_ids: list[str]) -> dict[str, dict[str, Any]]:
    """One expectation result over several batches, split into one description per batch.

    Failing rows carry their batch_id, so a failure is charged only to the batches whose rows broke the rule;
    a failure without rows (a table-level rule, an error) is charged to every batch validated together.
    """
    config = result.expectation_config
    kwargs = {k: v for k, v in config.kwargs.items() if k not in ("batch_id", "result_format")}
    res = result.result or {}
    exception = None
    if isinstance(result.exception_info, dict) and result.exception_info.get("raised_exception"):
        exception = result.exception_info.get("exception_message")
    rows = res.get("unexpected_index_list") or [
        # multicolumn rules (key uniqueness) return the offending values, batch_id among them, instead of lines
        u for u in (res.get("unexpected_list") or []) if isinstance(u, dict) and "batch_id" in u
    ]
    by_batch: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_batch[row.get("batch_id", "")].append(row)
    described = {}
    for batch_id in batch_ids:
        mine = by_batch.get(batch_id, [])
        failed = not result.success and (bool(mine) or not rows)
        described[batch_id] = _jsonable(
            {
                "expectation": config.type,
                "column": kwargs.get("column") or kwargs.get("column_A") or ",".join(kwargs.get("column_list", [])),
                "kwargs": kwargs,
                "success": not failed,
                "observed_value": res.get("observed_value"),
                "unexpected_count": len(mine) if rows or result.success else res.get("unexpected_count"),
                "examples": _failure_examples(mine),
                "exception": exception,
            }
        )
    return described


def _gate_query(conn: psycopg2.extensions.connection, source: str, batch_ids: list[str]) -> str:
    from expectations import utc_date_column

    contract = get_source(source)
    derived = [
        sql.SQL("(r.{} at time zone 'UTC')::date as {}").format(sql.Identifier(c.name), sql.Identifier(utc_date_column(c.name)))
        for c in contract.columns
        if c.type is ColumnType.TIMESTAMP
    ]
    query = sql.SQL(
        "select r.*, b.business_date as batch_business_date{} from {} r join audit.batches b on b.batch_id = r.batch_id"
        " where r.batch_id in ({})"
    ).format(
        sql.SQL("").join(sql.SQL(", ") + d for d in derived),
        sql.Identifier("raw", source),
        sql.SQL(", ").join(sql.Literal(b) for b in batch_ids),
    )
    return query.as_string(conn)


def run_suite(
    conn: psycopg2.extensions.connection, url: str, source: str, batch_ids: list[str]
) -> dict[str, list[dict[str, Any]]]:
    """Validate the raw rows of some batches of one source; return each batch's expectation descriptions."""
    import great_expectations as gx

    from expectations import build_suite

    context, datasource = _context(url)
    suite = context.suites.add_or_update(build_suite(source))
    asset_name = f"{source}_batches"
    try:
        datasource.delete_asset(asset_name)
    except LookupError:
        pass
    asset = datasource.add_query_asset(name=asset_name, query=_gate_query(conn, source, batch_ids))
    batch_definition = asset.add_batch_definition_whole_table("batches")
    validation = context.validation_definitions.add_or_update(
        gx.ValidationDefinition(name=f"validate_{source}", data=batch_definition, suite=suite)
    )
    outcome = validation.run(
        result_format={
            "result_format": "COMPLETE",
            "unexpected_index_column_names": ["batch_id", "source_line"],
            "partial_unexpected_count": MAX_EXAMPLES,
            "include_unexpected_rows": False,
        }
    )
    per_batch: dict[str, list[dict[str, Any]]] = {b: [] for b in batch_ids}
    for result in outcome.results:
        for batch_id, description in _describe_per_batch(result, batch_ids).items():
            per_batch[batch_id].append(description)
    return per_batch


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
    return gate_batches(conn, url, [batch_id])[0]


def gate_batches(conn: psycopg2.extensions.connection, url: str, batch_ids: list[str]) -> list[GateResult]:
    """Validate loaded batches (any sources), up to CHUNK of a source per GX run; pass or quarantine each."""
    from expectations import suite_name

    with conn.cursor() as cur:
        cur.execute(
            """select batch_id, source, business_date, status, file_name, file_checksum
               from audit.batches where batch_id = any(%s)""",
            (batch_ids,),
        )
        found = {row[0]: row for row in cur.fetchall()}
    conn.commit()
    missing = [b for b in batch_ids if b not in found]
    if missing:
        raise BatchNotFoundError(f"no batch {missing[0]!r} in audit.batches")
    decided = {b: GateResult(b, r[1], r[2], r[3] == "passed", 0) for b, r in found.items() if r[3] != "loaded"}
    pending: dict[str, list[str]] = defaultdict(list)
    for b in batch_ids:
        if b not in decided:
            pending[found[b][1]].append(b)
    results: dict[str, GateResult] = dict(decided)
    for source, ids in pending.items():
        for i in range(0, len(ids), CHUNK):
            chunk = ids[i : i + CHUNK]
            described = run_suite(conn, url, source, chunk)
            for batch_id in chunk:
                _, _, business_date, _, file_name, checksum = found[batch_id]
                results[batch_id] = _decide(
                    conn, batch_id, source, business_date, file_name, checksum, suite_name(source), described[batch_id]
                )
    return [results[b] for b in batch_ids]


def _decide(
    conn: psycopg2.extensions.connection,
    batch_id: str,
    source: str,
    business_date: dt.date,
    file_name: str,
    checksum: str,
    suite: str,
    results: list[dict[str, Any]],
) -> GateResult:
    """Store a batch's results, then pass it or move it to quarantine, in one transaction."""
    failures = [r for r in results if not r["success"]]
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
