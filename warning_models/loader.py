"""Load one landing file (a batch) into its raw table with COPY, recording it in audit.batches.

A batch is identified by source, business date and the sha256 of the file bytes:
- the same file again is a no-op (idempotent);
- a different file for the same source and date waits for the gate next to the day's passed batch, and
  supersedes it only when it passes (`promote`); a newer file replaces one that was not judged yet;
- a file that breaks the landing contract is not loaded: it goes to quarantine with the file, line and rule.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from pathlib import Path
from typing import Any

import psycopg2
import psycopg2.extensions
from psycopg2 import sql

from warning_models.contract import ColumnType, Source, control_path, get_source
from warning_models.dq_results import raise_alerts
from warning_models.errors import LandingError, Rule, WarehouseError

log = logging.getLogger(__name__)


class LoadStatus(str, Enum):
    LOADED = "loaded"  # new batch in raw, waiting for the gate
    UNCHANGED = "unchanged"  # the same file was loaded before: nothing to do
    REJECTED = "rejected"  # broke the landing contract: quarantined, nothing in raw


@dataclass(frozen=True)
class LoadResult:
    batch_id: str
    source: str
    business_date: dt.date
    status: LoadStatus
    row_count: int | None
    batch_status: str  # the batch's status in audit.batches after the load
    error: LandingError | None = None


def batch_id_for(source: str, business_date: dt.date, checksum: str) -> str:
    return f"{source}:{business_date.isoformat()}:{checksum[:12]}"


# What batch_id_for makes, and nothing else: a contract source, an ISO date, 12 hex digits of the file's checksum.
BATCH_ID_PATTERN = re.compile(r"^[a-z_]+:[0-9]{4}-[0-9]{2}-[0-9]{2}:[0-9a-f]{12}$")


def _parse(
    path: Path, source: Source, content: bytes, business_date: dt.date, batch_id: str
) -> tuple[list[str], bytes, Sequence[int]]:
    """Check encoding, header and row shape; return the header, a COPY-ready CSV body and each row's file line."""

    def fail(line: int | None, rule: Rule, detail: str) -> LandingError:
        return LandingError(path, line, rule, detail, source=source.name, business_date=business_date.isoformat())

    if not content.strip():
        raise fail(None, Rule.EMPTY_FILE, "the file is empty (not even a header)")
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = content[: exc.start].count(b"\n") + 1
        raise fail(line, Rule.ENCODING, f"byte {content[exc.start]:#04x} at offset {exc.start} is not UTF-8") from None
    text = text.removeprefix("\ufeff")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [h.strip() for h in next(reader)]
    except (StopIteration, csv.Error) as exc:
        raise fail(1, Rule.HEADER, f"no readable header: {exc}") from None
    expected = set(source.column_names)
    missing, extra = sorted(expected - set(header)), sorted(set(header) - expected)
    if missing or extra or len(header) != len(set(header)):
        parts = [f"missing {missing}" if missing else "", f"unexpected {extra}" if extra else ""]
        if len(header) != len(set(header)):
            parts.append("duplicate column names")
        raise fail(1, Rule.HEADER, "; ".join(p for p in parts if p) + f"; the contract is {list(source.column_names)}")
    fast = _parse_plain(text, header, source, batch_id)
    if fast is not None:
        body, lines = fast
        if not lines and not source.may_be_empty:
            raise fail(1, Rule.EMPTY_FILE, f"a header but no data rows; {source.name} must have at least one row")
        return header, body, lines
    not_null = {header.index(c.name): c.name for c in source.columns if not c.nullable}
    # Dates and timestamps must be ISO 8601; Postgres alone would also accept e.g. 03/04/2025 (ambiguous).
    iso = {header.index(c.name): c for c in source.columns if c.type in _ISO_FORMATS}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    lines: list[int] = []
    try:
        for row in reader:
            line = reader.line_num
            if not row:
                continue
            if len(row) != len(header):
                raise fail(line, Rule.COLUMN_COUNT, f"{len(row)} fields, the header has {len(header)}")
            for i, name in not_null.items():
                if row[i] == "":
                    raise fail(line, Rule.NOT_NULL, f"column {name} is empty")
            for i, column in iso.items():
                if row[i] and not _ISO_FORMATS[column.type].match(row[i]):
                    raise fail(line, Rule.TYPE, f"column {column.name} ({column.type.value}): {row[i]!r} is not ISO 8601")
            writer.writerow([batch_id, line, *row])
            lines.append(line)
    except csv.Error as exc:
        raise fail(reader.line_num, Rule.CSV_SYNTAX, str(exc)) from None
    if not lines and not source.may_be_empty:
        raise fail(1, Rule.EMPTY_FILE, f"a header but no data rows; {source.name} must have at least one row")
    return header, out.getvalue().encode("utf-8"), lines


def _parse_plain(text: str, header: list[str], source: Source, batch_id: str) -> tuple[bytes, range] | None:
    """The common file in a few passes at C speed: no quotes, no carriage returns, no blank lines, and every data
    line matching the contract's line pattern (field count, non-empty required fields, ISO 8601 dates). None when
    the file needs the row-by-row reader, which also finds and names the first offending line."""
    if '"' in text or "\r" in text:
        return None
    _, _, data = text.partition("\n")
    if data.endswith("\n"):
        data = data[:-1]
    if not data:
        return b"", range(0)
    if "\n\n" in data or data.startswith("\n"):
        return None
    if _lines_pattern(tuple(header), source.name).fullmatch(data) is None:
        return None
    n_lines = data.count("\n") + 1
    prefix = f"{batch_id},"
    rows = data.split("\n")
    body = "\n".join([f"{prefix}{line},{row}" for line, row in zip(range(2, n_lines + 2), rows)]) + "\n"
    return body.encode("utf-8"), range(2, n_lines + 2)


@lru_cache(maxsize=64)
def _lines_pattern(header: tuple[str, ...], source_name: str) -> re.Pattern[str]:
    """Data lines of an unquoted file with these columns, as one regex over the whole text: what the row-by-row
    reader accepts. Possessive quantifiers: one linear pass, no backtracking."""
    source = get_source(source_name)
    fields = []
    for name in header:
        column = source.column(name)
        if column.type in _ISO_FORMATS:
            value = _ISO_FORMATS[column.type].pattern.removeprefix("^").removesuffix("$")
            fields.append(f"(?:{value})" + ("?+" if column.nullable else ""))
        else:
            fields.append("[^,\n]*+" if column.nullable else "[^,\n]++")
    line = ",".join(fields)
    return re.compile(f"(?:{line}\n)*+{line}")


_DECIMAL = re.compile(r"^-?\d+(\.\d+)?$")
_ISO_FORMATS = {
    ColumnType.DATE: re.compile(r"^\d{4}-\d{2}-\d{2}$"),
    ColumnType.TIMESTAMP: re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)$"),
}
_COPY_CONTEXT = re.compile(r"line (\d+)(?:, column (\w+))?")


def _copy_error(path: Path, source: Source, business_date: dt.date, exc: psycopg2.Error, lines: Sequence[int]) -> LandingError:
    """Translate a COPY error into the file line, column and rule that broke."""
    context = (exc.diag.context or "") if exc.diag else ""
    match = _COPY_CONTEXT.search(context)
    line: int | None = None
    detail = (exc.diag.message_primary if exc.diag and exc.diag.message_primary else str(exc)).strip()
    if match:
        copy_line = int(match.group(1))
        line = lines[copy_line - 1] if 0 < copy_line <= len(lines) else None
        if match.group(2):
            column = match.group(2)
            if column in source.column_names:
                detail = f"column {column} ({source.column(column).type.value}): {detail}"
    return LandingError(path, line, Rule.TYPE, detail, source=source.name, business_date=business_date.isoformat())


def lock_day(cur: psycopg2.extensions.cursor, source: str, business_date: dt.date) -> None:
    """Serialise loads and decisions of one source and day (Airflow retries, parallel backfills, replays)."""
    cur.execute("select pg_advisory_xact_lock(hashtext(%s))", (f"{source}:{business_date}",))


def hold_in_quarantine(
    cur: psycopg2.extensions.cursor,
    batch_id: str,
    source: str,
    business_date: dt.date,
    file_name: str,
    content: bytes,
    reason: str,
    failures: list[dict[str, Any]],
    by: str,
) -> None:
    """Keep a batch's file bytes and failures in quarantine (kept bytes are never overwritten) and log the action."""
    cur.execute(
        """insert into quarantine.batches (batch_id, source, business_date, file_name, file_content, reason, failures)
           values (%s, %s, %s, %s, %s, %s, %s)
           on conflict (batch_id) do update set failures = excluded.failures, reason = excluded.reason,
           released_at = null, released_by = null, release_note = null""",
        (batch_id, source, business_date, file_name, psycopg2.Binary(content), reason, json.dumps(failures)),
    )
    cur.execute(
        "insert into quarantine.actions (batch_id, action, acted_by, note) values (%s, 'quarantined', %s, %s)",
        (batch_id, by, ", ".join(sorted({str(f["check"]) for f in failures}))),
    )


def _quarantine_rejected(
    cur: psycopg2.extensions.cursor, batch_id: str, source: Source, business_date: dt.date, path: Path, content: bytes, error: LandingError
) -> None:
    """Keep the rejected file's bytes in quarantine, record the action and raise a data_quality alert."""
    failure = {
        **error.as_dict(),
        "check": error.rule.value,
        "severity": "block",
        "expectation": "landing_contract",
        "column": "",
        "unexpected_count": 1,
        "examples": [{"line": error.line, "detail": error.detail}],
    }
    hold_in_quarantine(cur, batch_id, source.name, business_date, str(path), content, "landing_contract", [failure], "loader")
    raise_alerts(cur, batch_id, source.name, business_date, str(path), [failure])


@dataclass(frozen=True)
class Controls:
    """Control totals delivered with a batch: its data row count and sums of numeric columns."""

    row_count: int
    sums: dict[str, str]


def read_control(path: Path, source: Source, business_date: dt.date) -> Controls:
    """Parse a control-totals file: {"row_count": N, "sums": {"<numeric column>": "<decimal>"}}."""

    def fail(detail: str) -> LandingError:
        return LandingError(path, None, Rule.CONTROL_FILE, detail, source=source.name, business_date=business_date.isoformat())

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise fail(f"not a JSON control file: {exc}") from None
    count = data.get("row_count") if isinstance(data, dict) else None
    if type(count) is not int or not 0 <= count < 2**31:
        raise fail('needs "row_count": a whole number >= 0')
    sums = data.get("sums", {})
    numeric = {c.name for c in source.columns if c.type in (ColumnType.NUMERIC, ColumnType.INTEGER)}
    if not isinstance(sums, dict) or set(sums) - numeric:
        raise fail(f'"sums" may name only numeric columns of {source.name}: {sorted(numeric)}')
    for column, value in sums.items():
        if not isinstance(value, (str, int, float)) or isinstance(value, bool) or not _DECIMAL.match(str(value)):
            raise fail(f"sum of {column} is not a decimal number: {value!r}")
    return Controls(data["row_count"], {k: str(v) for k, v in sums.items()})


def _supersede(cur: psycopg2.extensions.cursor, source: str, business_date: dt.date, keep: str, status: str) -> list[str]:
    """Mark the other batch of this source and date in `status` superseded and drop its raw rows.

    Quarantined batches keep their status: they never were live, and quarantine keeps their file.
    """
    cur.execute(
        """update audit.batches set status = 'superseded'
           where source = %s and business_date = %s and status = %s and batch_id <> %s
           returning batch_id""",
        (source, business_date, status, keep),
    )
    old = [r[0] for r in cur.fetchall()]
    if old:
        cur.execute(sql.SQL("delete from {} where batch_id = any(%s)").format(sql.Identifier("raw", source)), (old,))
    return old


def promote(cur: psycopg2.extensions.cursor, source: str, business_date: dt.date, batch_id: str, detail: dict[str, object]) -> list[str]:
    """Make a loaded batch the day's passed batch, superseding the one that passed before (a correction).

    Until then the earlier passed batch stays live: a correction that fails the gate never costs the good data.
    """
    cur.execute("select status from audit.batches where batch_id = %s for update", (batch_id,))
    if cur.fetchone() != ("loaded",):
        raise WarehouseError(f"batch {batch_id} is no longer waiting for the gate; it was not promoted")
    superseded = _supersede(cur, source, business_date, keep=batch_id, status="passed")
    if superseded:
        detail = {**detail, "superseded": superseded}
    cur.execute(
        "update audit.batches set status = 'passed', validated_at = now(), detail = coalesce(detail, '{}') || %s"
        " where batch_id = %s",
        (json.dumps(detail), batch_id),
    )
    return superseded


OVERESTIMATE_SLACK_ROWS = 1_000  # a batch planned as up to this many rows more than twice its own: no ANALYZE


def _planner_misjudges(cur: psycopg2.extensions.cursor, table: str, batch_id: str, rows: int) -> bool:
    """Whether the planner would take the new batch for far fewer or far more rows than it has, so the table's
    statistics need a refresh.

    While a raw table holds few batches, every batch id sits in the statistics' most-common-values list and one it
    does not hold is planned as one row: the gate's self-joins over a batch of 100,000 rows then ran as nested loops
    for minutes (the M benchmark). Once the table holds more batches than that list, a new id is estimated at the
    average batch, and an ANALYZE after every batch (up to ~0.5 s on a big table) would make loading a day cost
    more as the history grows. But the statistics' count of batches stays what it was at their last ANALYZE, and
    the average batch grows with the table: without autovacuum (or between its runs), a 3-year history was planned
    from statistics of its first 101 days, each batch taken for ten times its rows, and dbt's daily models read
    the whole raw table instead of the day's batches (the history benchmark). Refreshing when the estimate is
    more than twice the rows keeps the statistics within a factor of two of the truth at one ANALYZE each time the
    table doubles. An overestimate by fewer than OVERESTIMATE_SLACK_ROWS rows changes no plan worth an ANALYZE."""
    cur.execute(
        sql.SQL("explain (format json) select 1 from {} where batch_id = %s").format(sql.Identifier("raw", table)),
        (batch_id,),
    )
    estimated = cur.fetchone()[0][0]["Plan"]["Plan Rows"]
    return estimated < rows / 2 or estimated > 2 * rows + OVERESTIMATE_SLACK_ROWS


def load_file(
    conn: psycopg2.extensions.connection,
    source_name: str,
    business_date: dt.date,
    path: Path,
    *,
    content: bytes | None = None,
    control: Path | None = None,
    replay: bool = False,
) -> LoadResult:
    """Load one file in one transaction (the caller's connection; committed here).

    `content` gives the file's bytes when they come from elsewhere than `path` (quarantine); `control` the
    control-totals file (default: the one next to `path`, if any). `replay` loads a quarantined batch again.
    """
    source = get_source(source_name)
    content = path.read_bytes() if content is None else content
    checksum = hashlib.sha256(content).hexdigest()
    batch_id = batch_id_for(source.name, business_date, checksum)
    control = control if control is not None else control_path(path)
    with conn.cursor() as cur:
        lock_day(cur, source.name, business_date)
        cur.execute("select status, row_count from audit.batches where batch_id = %s", (batch_id,))
        existing = cur.fetchone()
        if existing and existing[0] != "superseded" and not (replay and existing[0] == "quarantined"):
            conn.commit()
            return LoadResult(batch_id, source.name, business_date, LoadStatus.UNCHANGED, existing[1], existing[0])
        try:
            header, body, lines = _parse(path, source, content, business_date, batch_id)
            controls = read_control(control, source, business_date) if control.is_file() else None
            cur.execute("savepoint copy_batch")
            # A file not yet judged is replaced by a newer one; the day's passed batch stays until a new one passes.
            superseded = _supersede(cur, source.name, business_date, keep=batch_id, status="loaded")
            _upsert_batch(cur, batch_id, source, business_date, path, checksum, "loaded")
            columns = sql.SQL(", ").join(sql.Identifier(c) for c in ["batch_id", "source_line", *header])
            try:
                cur.copy_expert(
                    sql.SQL("copy {} ({}) from stdin with (format csv, null '')")
                    .format(sql.Identifier("raw", source.name), columns)
                    .as_string(cur),
                    io.BytesIO(body),
                )
            except psycopg2.Error as exc:
                cur.execute("rollback to savepoint copy_batch")  # the earlier live batch stays live
                raise _copy_error(path, source, business_date, exc, lines) from None
        except LandingError as error:
            _upsert_batch(cur, batch_id, source, business_date, path, checksum, "quarantined")
            cur.execute(
                "update audit.batches set validated_at = now(), detail = %s where batch_id = %s",
                (json.dumps({"rejected": error.as_dict()}), batch_id),
            )
            _quarantine_rejected(cur, batch_id, source, business_date, path, content, error)
            conn.commit()
            log.warning("rejected %s", error)
            return LoadResult(batch_id, source.name, business_date, LoadStatus.REJECTED, None, "quarantined", error)
        cur.execute(
            "update audit.batches set row_count = %s, detail = %s where batch_id = %s",
            (len(lines), json.dumps({"superseded": superseded}) if superseded else None, batch_id),
        )
        if _planner_misjudges(cur, source.name, batch_id, len(lines)):
            cur.execute("select audit.analyze_raw_table(%s)", (source.name,))
        cur.execute("delete from audit.batch_controls where batch_id = %s", (batch_id,))
        if controls is not None:
            cur.execute(
                "insert into audit.batch_controls (batch_id, file_name, row_count, sums) values (%s, %s, %s, %s)",
                (batch_id, str(control), controls.row_count, json.dumps(controls.sums)),
            )
    conn.commit()
    return LoadResult(batch_id, source.name, business_date, LoadStatus.LOADED, len(lines), "loaded")


def _upsert_batch(
    cur: psycopg2.extensions.cursor, batch_id: str, source: Source, business_date: dt.date, path: Path, checksum: str, status: str
) -> None:
    cur.execute(
        """insert into audit.batches (batch_id, source, business_date, file_name, file_checksum, status)
           values (%s, %s, %s, %s, %s, %s)
           on conflict (batch_id) do update
           set status = excluded.status, loaded_at = now(), validated_at = null, detail = null""",
        (batch_id, source.name, business_date, str(path), checksum, status),
    )
