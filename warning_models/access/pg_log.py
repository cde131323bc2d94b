"""The warehouse's own access as access events: a PostgreSQL csvlog turned into access_events landing files.

PostgreSQL writes one CSV row per log line (``log_destination = 'csvlog'``, ``logging_collector = on``). The
lines that say who touched what become events of the landing contract's ``access_events`` source:

- ``connection authorized: user=...`` (``log_connections = on``) -> ``login``;
- FATAL with SQLSTATE 28P01 (password authentication failed) or 28000 (no pg_hba.conf entry, unknown role)
  -> ``login_failed``;
- ``statement: ...`` (``log_statement = 'all'``), ``duration: ... statement: ...`` / ``execute ...:``
  (``log_min_duration_statement``) and ``duration: ... plan:`` (auto_explain) -> ``select`` (SELECT, WITH,
  TABLE), ``export`` (COPY ... TO) or ``update`` (INSERT, UPDATE, DELETE, MERGE, TRUNCATE, COPY ... FROM, DDL,
  GRANT, REVOKE); the object is the first relation the statement reads or writes (``schema.table``,
  unqualified names in ``default_schema``). Statements with no relation (``select 1``, SET, BEGIN) and, unless
  asked, those only on the system catalogs are left out. ``rows_read`` is the top plan node's actual rows when
  auto_explain logged them with ``log_analyze``, else 0 (the statement log does not carry row counts).

The event id is ``pg-<session_id>-<session_line_num>``: unique within a server's logs, stable on a rerun. The
log's timestamps must be in UTC (``log_timezone = 'UTC'``) or carry a numeric offset.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from warning_models.contract import get_source
from warning_models.errors import PgLogError

SOURCE = "access_events"
# csvlog columns by position (PostgreSQL 12 writes 23 columns, 13 writes 24, 14+ 26; these are among the first 14).
LOG_TIME, USER_NAME, DATABASE_NAME, PROCESS_ID, CONNECTION_FROM, SESSION_ID, SESSION_LINE = range(7)
ERROR_SEVERITY, SQL_STATE, MESSAGE = 11, 12, 13
MIN_COLUMNS = 23
FAILED_LOGIN_STATES = {"28P01", "28000"}
CATALOG_SCHEMAS = ("pg_catalog", "information_schema", "pg_toast")

_STATEMENT = re.compile(
    r"^(?:duration: [0-9.]+ ms\s+)?(?:statement|execute [^:]*|plan):\s*(?P<text>.*)\Z", re.S | re.I
)
_QUERY_TEXT = re.compile(r"Query Text:[ \t]*")
# A line of an EXPLAIN plan (text format): where auto_explain's query text ends, however many lines it has.
_PLAN_LINE = re.compile(r"\(cost=[0-9.]+\.\.[0-9.]+ rows=|\(actual time=|\(never executed\)")
_ACTUAL_ROWS = re.compile(r"\(actual time=[0-9.]+\.\.[0-9.]+ rows=(?P<rows>[0-9]+)")
_IDENT = r'(?:"[^"]+"|[A-Za-z_][A-Za-z0-9_$]*)'
_RELATION = re.compile(
    rf"\b(?:from|join|into|update|copy|table|truncate|on)\s+(?:only\s+)?(?:table\s+)?(?P<name>{_IDENT}(?:\.{_IDENT})?)",
    re.I,
)
_COPY_TO = re.compile(r"^\s*copy\s+(?:\(.*\)|[^\s(]+(?:\s*\([^)]*\))?)\s+to\b", re.I | re.S)
_NOT_RELATIONS = {"select", "lateral", "only", "table", "if", "unnest", "generate_series", "values"}
_SELECT_WORDS = {"select", "with", "table", "values"}
_UPDATE_WORDS = {
    "insert", "update", "delete", "merge", "truncate", "create", "alter", "drop", "grant", "revoke", "refresh",
}
_TIME_FORMAT = re.compile(r"^(?P<stamp>\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(?:\.\d+)?) (?P<zone>\S+)$")


@dataclass(frozen=True)
class AccessEvent:
    """One row of an access_events landing file."""

    event_id: str
    event_at: dt.datetime  # UTC
    user_id: str
    client_ip: str
    action: str
    object_name: str | None
    rows_read: int

    def as_row(self) -> dict[str, str]:
        return {
            "event_id": self.event_id,
            "event_at": self.event_at.isoformat(timespec="seconds"),
            "user_id": self.user_id,
            "client_ip": self.client_ip,
            "action": self.action,
            "object_name": self.object_name or "",
            "rows_read": str(self.rows_read),
        }


@dataclass(frozen=True)
class PgLogOptions:
    """How log lines map onto the contract."""

    user_prefix: str = ""  # prepended to the database role name (e.g. "pg:" to tell accounts apart)
    default_schema: str = "public"  # schema of unqualified relation names
    include_catalog: bool = False  # keep statements that only touch pg_catalog / information_schema


@dataclass
class Conversion:
    """What a csvlog held: events per UTC day, and the lines left out by reason."""

    events: list[AccessEvent] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)

    def by_day(self) -> dict[dt.date, list[AccessEvent]]:
        out: dict[dt.date, list[AccessEvent]] = {}
        for e in sorted(self.events, key=lambda e: (e.event_at, e.event_id)):
            out.setdefault(e.event_at.date(), []).append(e)
        return out


def parse_log_time(text: str) -> dt.datetime:
    """'2025-03-01 12:34:56.789 UTC' (or a numeric offset such as '+01' / '-0530') as an aware UTC datetime."""
    match = _TIME_FORMAT.match(text.strip())
    if not match:
        raise ValueError(f"not a csvlog timestamp: {text!r}")
    stamp = dt.datetime.fromisoformat(match["stamp"])
    zone = match["zone"]
    if zone in ("UTC", "GMT", "Z"):
        offset = dt.timedelta(0)
    elif re.fullmatch(r"[+-]\d{2}(:?\d{2})?", zone):
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        offset = sign * dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:4] or 0))
    else:
        raise ValueError(f"time zone {zone!r} is not UTC nor a numeric offset: set log_timezone = 'UTC'")
    return (stamp - offset).replace(tzinfo=dt.timezone.utc)


def client_ip(connection_from: str) -> str:
    """'10.0.0.5:51234' -> '10.0.0.5'; '[local]' (a Unix socket) -> 'local'."""
    if not connection_from or connection_from == "[local]":
        return "local"
    host, sep, port = connection_from.rpartition(":")
    return host if sep and port.isdigit() else connection_from


def classify(statement: str) -> str | None:
    """The contract's action for a statement, or None for one that touches no data (SET, BEGIN, SHOW ...)."""
    words = re.findall(r"[A-Za-z]+", statement[:2000])
    if not words:
        return None
    first = words[0].lower()
    if first == "copy":
        return "export" if _COPY_TO.match(statement) else "update"
    if first in _SELECT_WORDS or first == "explain":
        return "select"
    if first in _UPDATE_WORDS:
        return "update"
    return None


def relation(statement: str, default_schema: str) -> str | None:
    """The first relation a statement names after FROM / JOIN / INTO / UPDATE / COPY / TABLE / TRUNCATE."""
    for match in _RELATION.finditer(_strip_literals(statement)):
        name = match["name"]
        if name.lower() in _NOT_RELATIONS:
            continue
        # PostgreSQL folds unquoted identifiers to lower case; quoted ones keep theirs
        parts = [p[1:-1] if p.startswith('"') else p.lower() for p in re.findall(_IDENT, name)]
        if len(parts) == 1:
            parts = [default_schema, parts[0]]
        return ".".join(parts)
    return None


def _strip_literals(statement: str) -> str:
    """The statement without string literals and comments (a word inside them is not a relation)."""
    text = re.sub(r"'(?:[^']|'')*'", "''", statement)
    text = re.sub(r"--[^\n]*", " ", text)
    return re.sub(r"/\*.*?\*/", " ", text, flags=re.S)


def _statement_and_rows(message: str) -> tuple[str, int | None] | None:
    match = _STATEMENT.match(message)
    if not match:
        return None
    text = match["text"]
    rows = None
    if message.lower().lstrip().startswith("duration:") and " plan:" in message[:80]:
        actual = _ACTUAL_ROWS.search(text)
        rows = int(actual["rows"]) if actual else None
        text = _plan_query_text(text)
    return text.strip(), rows


def _plan_query_text(plan: str) -> str:
    """The statement of an auto_explain plan: the lines after 'Query Text:' up to the plan's first node."""
    start = _QUERY_TEXT.search(plan)
    if start is None:
        return ""
    lines = []
    for line in plan[start.end():].split("\n"):
        if _PLAN_LINE.search(line):
            break
        lines.append(line)
    return "\n".join(lines)


def convert(path: Path, options: PgLogOptions = PgLogOptions()) -> Conversion:
    """Read a csvlog file into access events (see the module docstring for the mapping)."""
    out = Conversion()
    last_statement: dict[str, tuple[str, int]] = {}  # session -> (statement, index of its event in out.events)
    try:
        handle = path.open(newline="", encoding="utf-8")
    except OSError as exc:
        raise PgLogError(path, None, f"cannot read: {exc}") from exc
    with handle:
        for number, row in enumerate(csv.reader(handle), start=1):
            if len(row) < MIN_COLUMNS:
                raise PgLogError(path, number, f"{len(row)} columns; a csvlog line has at least {MIN_COLUMNS}")
            user, message = row[USER_NAME], row[MESSAGE]
            if not user:
                out.skipped["no user (server process)"] += 1
                continue
            try:
                at = parse_log_time(row[LOG_TIME])
            except ValueError as exc:
                raise PgLogError(path, number, str(exc)) from exc
            session = row[SESSION_ID]
            base = dict(
                event_id=f"pg-{session}-{row[SESSION_LINE]}", event_at=at, user_id=options.user_prefix + user,
                client_ip=client_ip(row[CONNECTION_FROM]),
            )
            if message.startswith("connection authorized:"):
                out.events.append(AccessEvent(**base, action="login", object_name=None, rows_read=0))  # type: ignore[arg-type]
                continue
            if row[ERROR_SEVERITY] == "FATAL" and row[SQL_STATE] in FAILED_LOGIN_STATES:
                out.events.append(AccessEvent(**base, action="login_failed", object_name=None, rows_read=0))  # type: ignore[arg-type]
                continue
            parsed = _statement_and_rows(message)
            if parsed is None:
                out.skipped["not a statement, login or failed login"] += 1
                continue
            text, rows = parsed
            previous = last_statement.get(session)
            if rows is not None and previous is not None and previous[0] == text:
                # auto_explain's plan of the statement just logged: only its row count is new
                event = out.events[previous[1]]
                out.events[previous[1]] = AccessEvent(**{**event.__dict__, "rows_read": rows})
                continue
            action = classify(text)
            if action is None:
                out.skipped["statement touching no data"] += 1
                continue
            obj = relation(text, options.default_schema)
            if obj is None:
                out.skipped["statement naming no relation"] += 1
                continue
            if not options.include_catalog and (obj.split(".")[0] in CATALOG_SCHEMAS or obj.split(".")[-1].startswith("pg_")):
                out.skipped["system catalog"] += 1
                continue
            last_statement[session] = (text, len(out.events))
            out.events.append(AccessEvent(**base, action=action, object_name=obj, rows_read=rows or 0))  # type: ignore[arg-type]
    return out


def write_landing(conversion: Conversion, landing_dir: Path, merge: bool = False) -> dict[dt.date, int]:
    """One access_events file per UTC day under ``landing_dir/access_events/``; rows per day written.

    An existing file for a day is an error unless ``merge``: then its rows and the new ones are written back
    together (an event id already there is kept once), in time order."""
    columns = get_source(SOURCE).column_names
    folder = landing_dir / SOURCE
    folder.mkdir(parents=True, exist_ok=True)
    written: dict[dt.date, int] = {}
    for day, events in conversion.by_day().items():
        target = folder / f"{day.isoformat()}.csv"
        rows = [e.as_row() for e in events]
        if target.exists():
            if not merge:
                raise PgLogError(target, None, "a landing file for this day exists: pass --merge to add to it")
            with target.open(newline="", encoding="utf-8") as handle:
                existing = list(csv.DictReader(handle))
            seen = {r["event_id"] for r in existing}
            rows = existing + [r for r in rows if r["event_id"] not in seen]
            rows.sort(key=lambda r: (dt.datetime.fromisoformat(r["event_at"]), r["event_id"]))
        with target.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(columns), lineterminator="\n")
            writer.writeheader()
            writer.writerows({c: r.get(c, "") for c in columns} for r in rows)
        written[day] = len(rows)
    return written


def merge_business_date(
    paths: list[Path], landing_dir: Path, business_date: dt.date, options: PgLogOptions = PgLogOptions()
) -> int:
    """Add the warehouse's own events of one business date (from every csvlog in ``paths``) to that day's
    access_events landing file; the number of events added. Idempotent: an event id already there is kept once."""
    day = Conversion()
    for path in sorted(paths):
        conversion = convert(path, options)
        day.events.extend(e for e in conversion.events if e.event_at.date() == business_date)
    if not day.events:
        return 0
    target = landing_dir / SOURCE / f"{business_date.isoformat()}.csv"
    before = sum(1 for _ in target.open(encoding="utf-8")) - 1 if target.is_file() else 0
    written = write_landing(day, landing_dir, merge=True)
    return written.get(business_date, 0) - before
