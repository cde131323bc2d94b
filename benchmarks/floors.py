"""The floors a daily run is compared with, measured on the same files and the same warehouse state.

- load floor: PostgreSQL's COPY of the day's landing files, as they are, into bare tables (the files' columns and
  types, no key, no index, no lineage, no checks): the fastest a file gets into the warehouse;
- transform floor: the SQL dbt sent for the day's models (read back from dbt's debug log), sent again in the same
  order by a plain client, on a copy of the warehouse as it was before dbt ran: dbt's own cost is the difference.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg2
import psycopg2.extensions
from psycopg2 import sql

from warning_models.contract import SOURCE_ORDER, get_source, landing_path
from warning_models.pseudonyms import pgoptions_with_keys
from warning_models.roles import JobRole

FLOOR_SCHEMA = "bench_floor"


@dataclass(frozen=True)
class CopyFloor:
    rows: int
    seconds: float
    per_source: dict[str, tuple[int, float]]

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


def copy_floor(url: str, landing: Path, day: dt.date) -> CopyFloor:
    """COPY each landing file of ``day`` into a bare table of its columns; the tables are dropped after."""
    per_source: dict[str, tuple[int, float]] = {}
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(FLOOR_SCHEMA)))
            cur.execute(sql.SQL("create schema {}").format(sql.Identifier(FLOOR_SCHEMA)))
        conn.commit()
        for source in SOURCE_ORDER:
            path = landing_path(landing, source, day)
            if not path.is_file():
                continue
            header = path.open(encoding="utf-8").readline().strip().split(",")
            contract = get_source(source)
            table = sql.Identifier(FLOOR_SCHEMA, source)
            columns = sql.SQL(", ").join(
                sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(contract.column(c).type.sql)) for c in header
            )
            with conn.cursor() as cur:
                cur.execute(sql.SQL("create table {} ({})").format(table, columns))
                conn.commit()
                started = time.perf_counter()
                with path.open("rb") as fh:
                    cur.copy_expert(
                        sql.SQL("copy {} from stdin with (format csv, header)").format(table).as_string(cur), fh
                    )
                conn.commit()
                per_source[source] = (cur.rowcount, time.perf_counter() - started)
        with conn.cursor() as cur:
            cur.execute(sql.SQL("drop schema {} cascade").format(sql.Identifier(FLOOR_SCHEMA)))
        conn.commit()
    finally:
        conn.close()
    return CopyFloor(
        sum(r for r, _ in per_source.values()), sum(s for _, s in per_source.values()), per_source
    )


# dbt's debug log: "<ESC>[0m16:29:51.606171 [debug] [Thread-1 (]: On model.ews.x: <sql, possibly many lines>"
_ENTRY = re.compile(r"^(?:\x1b\[0m)?\d\d:\d\d:\d\d\.\d+ \[\w+ *\] \[[^\]]*\]: ", re.MULTILINE)
_STATEMENT = re.compile(r"^On ((?:model|snapshot|operation)\.[\w.\-]+): (.*)$", re.DOTALL)
_COMMENT = re.compile(r"^/\* \{.*?\} \*/\s*", re.DOTALL)


def dbt_log_statements(log_dir: Path) -> list[tuple[str, str]]:
    """(node id, SQL) of every statement dbt sent for models and hooks, in the order it sent them; dbt's own
    bookkeeping (BEGIN / COMMIT / close), the tests and the seed (inserted with bound parameters the log does not
    show; a few rows) left out."""
    files = sorted(log_dir.glob("dbt.log*"), key=lambda p: p.stat().st_mtime)
    text = "".join(p.read_text(encoding="utf-8", errors="replace") for p in files)
    starts = [m.end() for m in _ENTRY.finditer(text)]
    ends = [m.start() for m in _ENTRY.finditer(text)][1:] + [len(text)]
    out = []
    for start, end in zip(starts, ends):
        match = _STATEMENT.match(text[start:end].rstrip())
        if not match:
            continue
        node, statement = match.group(1), _COMMENT.sub("", match.group(2)).strip()
        if statement.upper() in ("BEGIN", "COMMIT", "ROLLBACK", "CLOSE") or not statement:
            continue
        out.append((node, statement))
    return out


def transform_floor(url: str, statements: list[tuple[str, str]], logged_database: str) -> float:
    """Send the statements on one connection, one transaction per model as dbt does, the models in the order dbt
    started them (dbt starts a model once its parents are done, so that order respects the graph); the seconds
    it took. dbt names relations with their database: ``logged_database`` becomes this one's."""
    database = psycopg2.extensions.parse_dsn(url)["dbname"]
    by_node: dict[str, list[str]] = {}
    for node, statement in statements:
        by_node.setdefault(node, []).append(statement.replace(f'"{logged_database}".', f'"{database}".'))
    # as dbt connects: the transformer role, the pseudonym keys as session settings (warning_models.transform)
    conn = psycopg2.connect(url, options=pgoptions_with_keys())
    started = time.perf_counter()
    try:
        with conn.cursor() as cur:
            cur.execute(sql.SQL("set role {}").format(sql.Identifier(JobRole.TRANSFORMER.value)))
            for node_statements in by_node.values():
                for statement in node_statements:
                    cur.execute(statement)
                conn.commit()
    finally:
        conn.close()
    return time.perf_counter() - started
