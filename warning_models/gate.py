"""The quality gate: validate loaded batches with their GX suite, store the results, pass or quarantine each.

A batch that fails a `block` check is moved out of raw into quarantine (with its file and the failed
expectations, row lines included), so it never reaches dbt; a batch failing only `warn` checks passes with a
data_quality alert. Batches of one source are decided in date order, so each is judged against history that
holds no quarantined day: when a batch is quarantined, the later ones validated with it are validated again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg2.extensions
from psycopg2 import sql

from warning_models.contract import SOURCE_ORDER, ColumnType, get_source
from warning_models.dq_results import (
    MAX_EXAMPLES,
    attributed_completely,
    describe_per_batch,
    raise_alerts,
    store_results,
)
from warning_models.errors import BatchNotFoundError
from warning_models.gx_context import build_data_docs, gx_context
from warning_models.loader import hold_in_quarantine, lock_day, promote

if TYPE_CHECKING:
    from expectations.config import GateConfig

log = logging.getLogger(__name__)

CHUNK = 40  # batches of one source validated together (GX costs ~0.5 s of Python per validation)


@dataclass
class GateResult:
    batch_id: str
    source: str
    business_date: dt.date
    passed: bool
    evaluated: int
    failures: list[dict[str, Any]] = field(default_factory=list)  # block checks that failed
    warnings: list[dict[str, Any]] = field(default_factory=list)  # warn checks that failed


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
    conn: psycopg2.extensions.connection,
    url: str,
    source: str,
    batch_ids: list[str],
    config: "GateConfig | None" = None,
    gx_home: Path | None = None,
) -> dict[str, list[dict[str, Any]]] | None:
    """Validate the raw rows of some batches of one source; return each batch's expectation descriptions.

    None when GX returned too few failing rows to tell which of several batches they belong to.
    """
    import great_expectations as gx
    from great_expectations.core.run_identifier import RunIdentifier

    from expectations import build_suite

    context, datasource = gx_context(url, gx_home)
    suite = context.suites.add_or_update(build_suite(source, batch_ids, config))
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
    dates = sorted(b.split(":")[1] for b in batch_ids)
    outcome = validation.run(
        run_id=RunIdentifier(run_name=f"{source} {dates[0]}" + (f"..{dates[-1]}" if len(dates) > 1 else "")),
        result_format={
            "result_format": "COMPLETE",
            "unexpected_index_column_names": ["batch_id", "source_line"],
            "partial_unexpected_count": MAX_EXAMPLES,
            "include_unexpected_rows": False,
        }
    )
    if len(batch_ids) > 1 and not all(attributed_completely(r) for r in outcome.results):
        return None  # GX returned only some failing rows: the batches must be judged one by one
    per_batch: dict[str, list[dict[str, Any]]] = {b: [] for b in batch_ids}
    for result in outcome.results:
        for batch_id, description in describe_per_batch(result, batch_ids).items():
            per_batch[batch_id].append(description)
    return per_batch


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


def gate_batch(
    conn: psycopg2.extensions.connection, url: str, batch_id: str, gx_home: Path | None = None, build_docs: bool = True
) -> GateResult:
    """Validate one loaded batch; mark it passed, or move it to quarantine. Idempotent for decided batches."""
    return gate_batches(conn, url, [batch_id], gx_home=gx_home, build_docs=build_docs)[0]


def gate_batches(
    conn: psycopg2.extensions.connection,
    url: str,
    batch_ids: list[str],
    config: "GateConfig | None" = None,
    gx_home: Path | None = None,
    build_docs: bool = True,
) -> list[GateResult]:
    """Validate loaded batches (any sources), upstream first, each source's batches in date order; decide each.

    With a GX folder, validation results are kept there too and the Data Docs site is rebuilt at the end
    (unless `build_docs` is off: parallel Airflow tasks leave that to the DAG's summary task).
    """
    from expectations import load_gate_config, suite_name

    config = config or load_gate_config()
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
    for b in dict.fromkeys(batch_ids):
        if b not in decided:
            pending[found[b][1]].append(b)
    results: dict[str, GateResult] = dict(decided)
    since_refresh = CHUNK  # the first chunk too: the loader leaves the statistics alone once they judge a batch right
    for source in sorted(pending, key=SOURCE_ORDER.index):
        ids = sorted(pending[source], key=lambda b: found[b][2])
        size = CHUNK
        while ids:
            if since_refresh >= CHUNK:
                # a long gate (a history) turns thousands of batches from loaded to passed: checks that read the
                # live batches are planned from statistics that count them (without, a 3-year history's later
                # chunks ran as nested loops, a minute each)
                _refresh_batch_statistics(conn)
                since_refresh = 0
            chunk = ids[:size]
            described = run_suite(conn, url, source, chunk, config, gx_home)
            if described is None:
                size = 1  # judge them one by one from here on
                continue
            # Decide up to the first batch that is quarantined: the later ones were judged against it.
            upto = next((i + 1 for i, b in enumerate(chunk) if _blocks(described[b])), len(chunk))
            for batch_id in chunk[:upto]:
                _, _, business_date, _, file_name, checksum = found[batch_id]
                results[batch_id] = _decide(
                    conn, batch_id, source, business_date, file_name, checksum, suite_name(source), described[batch_id]
                )
            ids = ids[upto:]
            since_refresh += upto
    if pending:
        _refresh_batch_statistics(conn)
    if pending and gx_home is not None and build_docs:
        build_data_docs(url, gx_home)
    return [results[b] for b in batch_ids]


def _refresh_batch_statistics(conn: psycopg2.extensions.connection) -> None:
    """The planner's statistics of audit.batches with the statuses just decided (migration 0012 says why)."""
    with conn.cursor() as cur:
        cur.execute("select audit.analyze_batch_tables()")
    conn.commit()


def _blocks(results: list[dict[str, Any]]) -> bool:
    return any(not r["success"] and r["severity"] == "block" for r in results)


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
    """Store a batch's results and alerts, then pass it or move it to quarantine, in one transaction."""
    failed = [r for r in results if not r["success"]]
    for f in failed:
        f["file"] = file_name
    blocking = [f for f in failed if f["severity"] == "block"]
    warnings = [f for f in failed if f["severity"] == "warn"]
    with conn.cursor() as cur:
        store_results(cur, batch_id, suite, results)
        raise_alerts(cur, batch_id, source, business_date, file_name, failed)
        lock_day(cur, source, business_date)  # another process may be replacing this batch
        cur.execute("select status from audit.batches where batch_id = %s", (batch_id,))
        if cur.fetchone() != ("loaded",):
            conn.rollback()
            log.warning("batch %s was replaced while it was being validated; left as it is", batch_id)
            return GateResult(batch_id, source, business_date, False, len(results), blocking, warnings)
        if not blocking:
            promote(cur, source, business_date, batch_id, {"warnings": [f["check"] for f in warnings]} if warnings else {})
        else:
            content = _batch_file_bytes(cur, source, batch_id, file_name, checksum)
            hold_in_quarantine(cur, batch_id, source, business_date, file_name, content, "expectations", blocking, "gate")
            cur.execute(sql.SQL("delete from {} where batch_id = %s").format(sql.Identifier("raw", source)), (batch_id,))
            cur.execute(
                "update audit.batches set status = 'quarantined', validated_at = now(), detail = %s where batch_id = %s",
                (json.dumps({"failed_checks": sorted({f["check"] for f in blocking})}), batch_id),
            )
            log.warning("batch %s quarantined: %s", batch_id, ", ".join(f["check"] for f in blocking))
    conn.commit()
    return GateResult(batch_id, source, business_date, not blocking, len(results), blocking, warnings)
