"""The quarantine lifecycle: list what is held back, show why, release it as it is, or replay it.

Nothing in quarantine is deleted: a batch keeps its file bytes and failures, and every action on it is a row in
quarantine.actions. A batch is
- open      while nothing took its place,
- released  when a person accepted it as it is (its rows go to raw as a passed batch),
- replaced  when a batch of the same source and business date loaded after it passed (a corrected file),
- replayed  when the same file passed when judged again (its upstream was fixed, or the rules changed).

`replay` gates the source's landing file for that date again: the corrected file when one was dropped there,
else the kept bytes (after the gate's configuration changed). When it passes, open quarantined batches of
downstream sources from that date on are judged again (they were held back by it), then the models and the
indicators of every affected day are recomputed.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg2.extensions

from warning_models.config import Settings
from warning_models.contract import downstream_of, landing_path
from warning_models.errors import BatchNotFoundError, QuarantineError
from warning_models.gate import GateResult, gate_batches
from warning_models.gx_context import build_data_docs
from warning_models.loader import LoadResult, LoadStatus, load_file, lock_day, promote

STATES = ("open", "released", "replaced", "replayed")

_ENTRIES = """
    select q.batch_id, q.source, q.business_date, q.reason, q.file_name, q.quarantined_at, q.failures,
           q.released_at, q.released_by, q.release_note,
           (select b.batch_id from audit.batches b
            where b.source = q.source and b.business_date = q.business_date and b.status = 'passed'
              and b.batch_id <> q.batch_id and b.loaded_at > q.quarantined_at
            order by b.loaded_at desc limit 1) as replaced_by,
           (select b.status from audit.batches b where b.batch_id = q.batch_id) as batch_status
    from quarantine.batches q
"""


@dataclass
class Entry:
    batch_id: str
    source: str
    business_date: dt.date
    reason: str
    file_name: str
    quarantined_at: dt.datetime
    failures: list[dict[str, Any]]
    released_at: dt.datetime | None
    released_by: str | None
    release_note: str | None
    replaced_by: str | None
    batch_status: str
    actions: list[dict[str, Any]] = field(default_factory=list)

    @property
    def state(self) -> str:
        if self.released_at is not None:
            return "released"
        if self.batch_status == "passed":
            return "replayed"  # the same file passed when judged again (after its upstream or the rules changed)
        return "replaced" if self.replaced_by else "open"

    @property
    def rules(self) -> list[str]:
        return sorted({str(f.get("check") or f.get("rule")) for f in self.failures})

    @property
    def lines(self) -> list[int]:
        found = {e["line"] for f in self.failures for e in f.get("examples", []) if e.get("line") is not None}
        return sorted(found | {f["line"] for f in self.failures if isinstance(f.get("line"), int)})


def _entry(row: tuple[Any, ...]) -> Entry:
    return Entry(*row[:6], row[6] if isinstance(row[6], list) else json.loads(row[6]), *row[7:])


def list_entries(conn: psycopg2.extensions.connection, states: tuple[str, ...] = ("open",)) -> list[Entry]:
    """Quarantined batches in the given states, oldest business date first."""
    with conn.cursor() as cur:
        cur.execute(_ENTRIES + " order by q.business_date, q.source, q.quarantined_at")
        entries = [_entry(r) for r in cur.fetchall()]
    conn.commit()
    return [e for e in entries if e.state in states]


def get_entry(conn: psycopg2.extensions.connection, batch_ref: str) -> Entry:
    """The quarantined batch named by its id, or by a part of it that names one batch (e.g. its checksum)."""
    with conn.cursor() as cur:
        cur.execute(_ENTRIES + " where strpos(q.batch_id, %s) > 0 order by q.batch_id", (batch_ref,))
        rows = cur.fetchall()
        exact = [r for r in rows if r[0] == batch_ref]
        rows = exact or rows
        if not rows:
            raise BatchNotFoundError(f"no quarantined batch matches {batch_ref!r}; see `ews quarantine list --all`")
        if len(rows) > 1:
            raise BatchNotFoundError(f"{batch_ref!r} matches {len(rows)} quarantined batches: {', '.join(r[0] for r in rows[:5])}")
        entry = _entry(rows[0])
        cur.execute(
            "select action, acted_at, acted_by, note, outcome from quarantine.actions where batch_id = %s order by action_id",
            (entry.batch_id,),
        )
        entry.actions = [
            {"action": a, "at": at.isoformat(timespec="seconds"), "by": by, "note": note, "outcome": outcome}
            for a, at, by, note, outcome in cur.fetchall()
        ]
    conn.commit()
    return entry


def file_bytes(conn: psycopg2.extensions.connection, batch_id: str) -> bytes:
    with conn.cursor() as cur:
        cur.execute("select file_content from quarantine.batches where batch_id = %s", (batch_id,))
        row = cur.fetchone()
    conn.commit()
    if row is None:
        raise BatchNotFoundError(f"no quarantined batch {batch_id!r}")
    return bytes(row[0])


def _record(conn: psycopg2.extensions.connection, batch_id: str, action: str, by: str, note: str | None, outcome: Any) -> None:
    with conn.cursor() as cur:
        cur.execute(
            "insert into quarantine.actions (batch_id, action, acted_by, note, outcome) values (%s, %s, %s, %s, %s)",
            (batch_id, action, by, note, json.dumps(outcome, default=str) if outcome is not None else None),
        )
    conn.commit()


def release(
    conn: psycopg2.extensions.connection, url: str, settings: Settings, batch_ref: str, by: str, note: str
) -> tuple[Entry, list[GateResult]]:
    """Accept a batch the gate held back, as it is: its rows go to raw as the day's passed batch; then re-judge
    what it held back downstream.

    A file that broke the landing contract cannot be released (it cannot be loaded); fix it and replay.
    """
    entry = get_entry(conn, batch_ref)
    if entry.state != "open":
        raise QuarantineError(entry.batch_id, f"is {entry.state}; only open batches can be released")
    if entry.reason != "expectations":
        raise QuarantineError(entry.batch_id, "broke the landing contract and cannot be loaded as it is: drop a corrected file and replay")
    if not note.strip():
        raise QuarantineError(entry.batch_id, "a release needs a note saying why the data is right")
    loaded = load_file(conn, entry.source, entry.business_date, Path(entry.file_name), content=file_bytes(conn, entry.batch_id), replay=True)
    if loaded.status is not LoadStatus.LOADED:
        raise QuarantineError(entry.batch_id, f"could not be loaded again: {loaded.error}")
    with conn.cursor() as cur:
        lock_day(cur, entry.source, entry.business_date)
        promote(cur, entry.source, entry.business_date, loaded.batch_id, {"released_by": by, "release_note": note})
        cur.execute(
            "update quarantine.batches set released_at = now(), released_by = %s, release_note = %s where batch_id = %s",
            (by, note, entry.batch_id),
        )
    conn.commit()
    _record(conn, entry.batch_id, "released", by, note, {"rows": loaded.row_count})
    rejudged = _rejudge_downstream(conn, url, settings, entry, by)
    build_data_docs(url, settings.gx_home)
    return get_entry(conn, entry.batch_id), rejudged


@dataclass
class ReplayOutcome:
    entry: Entry
    load: LoadResult
    gate: GateResult | None
    rejudged: list[GateResult] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.gate is not None and self.gate.passed


def _load_for_replay(conn: psycopg2.extensions.connection, settings: Settings, entry: Entry) -> LoadResult:
    """The corrected landing file if one was dropped for that source and date, else the kept bytes."""
    path = landing_path(settings.landing_dir, entry.source, entry.business_date)
    kept = file_bytes(conn, entry.batch_id)
    if path.is_file() and path.read_bytes() != kept:
        return load_file(conn, entry.source, entry.business_date, path)
    return load_file(conn, entry.source, entry.business_date, Path(entry.file_name), content=kept, replay=True)


def replay(
    conn: psycopg2.extensions.connection, url: str, settings: Settings, batch_ref: str, by: str
) -> ReplayOutcome:
    """Load and gate the source's file for that date again; on success, re-judge what it held back downstream."""
    entry = get_entry(conn, batch_ref)
    if entry.state != "open":
        raise QuarantineError(entry.batch_id, f"is {entry.state}; nothing to replay")
    loaded = _load_for_replay(conn, settings, entry)
    gate = None
    if loaded.batch_status == "loaded":
        gate = gate_batches(conn, url, [loaded.batch_id], gx_home=settings.gx_home, build_docs=False)[0]
    outcome = ReplayOutcome(entry, loaded, gate)
    _record(
        conn, entry.batch_id, "replayed", by, None,
        {"batch_id": loaded.batch_id, "load": loaded.status.value, "passed": outcome.passed,
         "failed_checks": sorted({f["check"] for f in gate.failures}) if gate else [str(loaded.error) if loaded.error else loaded.batch_status]},
    )
    if outcome.passed:
        outcome.rejudged = _rejudge_downstream(conn, url, settings, entry, by)
    build_data_docs(url, settings.gx_home)
    return outcome


def _rejudge_downstream(
    conn: psycopg2.extensions.connection, url: str, settings: Settings, entry: Entry, by: str
) -> list[GateResult]:
    """Gate again the open quarantined batches of downstream sources, from the replayed date on, in order."""
    downstream = downstream_of(entry.source)
    held = [e for e in list_entries(conn) if e.source in downstream and e.business_date >= entry.business_date]
    ids = []
    for e in held:
        loaded = load_file(conn, e.source, e.business_date, Path(e.file_name), content=file_bytes(conn, e.batch_id), replay=True)
        if loaded.batch_status == "loaded":
            ids.append((e, loaded.batch_id))
    results = gate_batches(conn, url, [b for _, b in ids], gx_home=settings.gx_home, build_docs=False) if ids else []
    for (e, batch_id), result in zip(ids, results):
        _record(conn, e.batch_id, "replayed", by, f"after {entry.batch_id} passed",
                {"batch_id": batch_id, "passed": result.passed, "failed_checks": sorted({f["check"] for f in result.failures})})
    return results
