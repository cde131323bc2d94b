"""The daily pipeline: load → gate → dbt → indicators and alerts, for one business date or a span.

`run_day` is what the Airflow DAG does for one data interval. `backfill` runs the same stages for a span:
load and gate every day in order, build the models once, then compute every day's indicators as of that day.
Indicators only read rows dated on or before their as-of date, so the result equals day-by-day runs.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import psycopg2.extensions

from warning_models.config import Settings, load_settings
from warning_models.contract import SOURCE_ORDER, expected_sources, landing_path
from warning_models.gate import GateResult, gate_batch, gate_batches
from warning_models.loader import LoadResult, LoadStatus, load_file
from warning_models.roles import JobRole, job_url
from warning_models.warehouse import connect, migrate, warehouse_url

log = logging.getLogger(__name__)


@dataclass
class IngestReport:
    business_date: dt.date
    loads: list[LoadResult] = field(default_factory=list)
    gates: list[GateResult] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    @property
    def quarantined(self) -> list[str]:
        rejected = [f"{r.source} ({r.error})" for r in self.loads if r.status is LoadStatus.REJECTED]
        failed = [
            f"{g.source} (failed {', '.join(f['check'] + (':' + f['column'] if f.get('column') else '') for f in g.failures)})"
            for g in self.gates
            if not g.passed
        ]
        return rejected + failed


@dataclass
class DayReport:
    business_date: dt.date
    ingest: IngestReport
    indicators: list[Any] = field(default_factory=list)


def days_between(start: dt.date, end: dt.date) -> Iterator[dt.date]:
    day = start
    while day <= end:
        yield day
        day += dt.timedelta(days=1)


@contextmanager
def stage(
    conn: psycopg2.extensions.connection,
    run_id: str,
    business_date: dt.date,
    name: str,
    observe: "StageObserver | None" = None,
) -> Iterator[dict[str, Any]]:
    """Record a pipeline stage in audit.pipeline_runs; the yielded dict becomes its detail. ``observe`` watches the
    stage's work (not the bookkeeping around it)."""
    detail: dict[str, Any] = {}
    with conn.cursor() as cur:
        cur.execute(
            """insert into audit.pipeline_runs (run_id, business_date, stage, status) values (%s, %s, %s, 'running')
               on conflict (run_id, business_date, stage) do update set status = 'running', started_at = now(), finished_at = null""",
            (run_id, business_date, name),
        )
    conn.commit()
    status = "failed"
    try:
        with observe(name, business_date, detail) if observe else nullcontext():
            yield detail
        status = "succeeded"
    finally:
        conn.rollback()
        with conn.cursor() as cur:
            cur.execute(
                """update audit.pipeline_runs set status = %s, finished_at = now(), detail = %s
                   where run_id = %s and business_date = %s and stage = %s""",
                (status, json.dumps(detail, default=str), run_id, business_date, name),
            )
        conn.commit()


GATED_STAGE = "gated"  # ews_load's last task: the day's batches are gated, ews_model may model it


def record_gated_day(conn: psycopg2.extensions.connection, run_id: str, business_date: dt.date, detail: dict[str, Any]) -> None:
    """Record in audit.pipeline_runs that ews_load gated the day (what ews_model's catch-up reads)."""
    with stage(conn, run_id, business_date, GATED_STAGE) as recorded:
        recorded.update(detail)


def gated_days_not_modelled(conn: psycopg2.extensions.connection) -> list[dt.date]:
    """The days ews_load gated after the last day any indicator was fitted for, oldest first; none before a first
    modelled day (a new warehouse models what its events name)."""
    with conn.cursor() as cur:
        cur.execute(
            """select distinct g.business_date from audit.pipeline_runs g
               where g.stage = %s and g.status = 'succeeded'
                 and g.business_date > (select max(as_of_date) from warning.model_runs)
               order by 1""",
            (GATED_STAGE,),
        )
        return [row[0] for row in cur.fetchall()]


def load_source(
    conn: psycopg2.extensions.connection, settings: Settings, source: str, business_date: dt.date, report: IngestReport
) -> LoadResult | None:
    """Load one source's file for a day; a missing required file is recorded, not fatal."""
    if source == ACCESS_SOURCE and settings.warehouse_csvlog:
        merge_warehouse_log(settings, business_date)
    path = landing_path(settings.landing_dir, source, business_date)
    if not path.is_file():
        if source in expected_sources(business_date):
            report.missing.append(source)
            log.warning("missing landing file %s", path)
        return None
    loaded = load_file(conn, source, business_date, path)
    report.loads.append(loaded)
    return loaded


ACCESS_SOURCE = "access_events"


def merge_warehouse_log(settings: Settings, business_date: dt.date) -> int:
    """The warehouse's own access (its csvlog, EWS_WAREHOUSE_CSVLOG) joins the day's access events."""
    from glob import glob

    from warning_models.access.pg_log import merge_business_date

    paths = [Path(p) for p in glob(settings.warehouse_csvlog or "")]
    added = merge_business_date(paths, settings.landing_dir, business_date)
    log.info("%d events of the warehouse's own log for %s (%d files)", added, business_date, len(paths))
    return added


def ingest_source(
    conn: psycopg2.extensions.connection, url: str, settings: Settings, source: str, business_date: dt.date, report: IngestReport
) -> None:
    """Load and gate one source's batch for a day (the DAG's per-source task)."""
    loaded = load_source(conn, settings, source, business_date, report)
    if loaded is not None and loaded.batch_status == "loaded":  # new, or left ungated by an interrupted run
        # Data Docs are rebuilt once per run (the DAG's summary task), not by parallel per-source tasks.
        report.gates.append(gate_batch(conn, url, loaded.batch_id, gx_home=settings.gx_home, build_docs=False))


def load_days(
    conn: psycopg2.extensions.connection, settings: Settings, days: list[dt.date], progress: bool = False
) -> list[IngestReport]:
    """Load every source of every day in date order (the gate comes after: `gate_loaded`)."""
    reports = [IngestReport(day) for day in days]
    for report in _progress(reports, "load", progress):
        for source in SOURCE_ORDER:
            load_source(conn, settings, source, report.business_date, report)
    return reports


def gate_loaded(
    conn: psycopg2.extensions.connection, url: str, settings: Settings, reports: list[IngestReport]
) -> list[IngestReport]:
    """Gate every batch the reports loaded and left waiting (many per GX run); the results join their day."""
    by_day = {r.business_date: r for r in reports}
    pending = [l.batch_id for r in reports for l in r.loads if l.batch_status == "loaded"]
    for gate in gate_batches(conn, url, pending, gx_home=settings.gx_home):
        by_day[gate.business_date].gates.append(gate)
    return reports


def ingest_days(
    conn: psycopg2.extensions.connection, url: str, settings: Settings, days: list[dt.date], progress: bool = False
) -> list[IngestReport]:
    """Load every source of every day in date order, then gate all new batches (many per GX run)."""
    return gate_loaded(conn, url, settings, load_days(conn, settings, days, progress))


def _ingest_detail(report: IngestReport) -> dict[str, Any]:
    return {
        "loaded": {r.source: r.row_count for r in report.loads if r.status is LoadStatus.LOADED},
        "unchanged": [r.source for r in report.loads if r.status is LoadStatus.UNCHANGED],
        "quarantined": report.quarantined,
        "missing": report.missing,
    }


class StageObserver(Protocol):
    """Watches each stage of a run (the benchmarks measure time and memory with one): entered before the stage's
    work, left after it; ``detail`` is what the stage records in audit.pipeline_runs, filled by the time it exits."""

    def __call__(self, name: str, business_date: dt.date, detail: dict[str, Any]) -> AbstractContextManager[None]: ...


def backfill(
    start: dt.date,
    end: dt.date,
    *,
    settings: Settings | None = None,
    url: str | None = None,
    progress: bool = False,
    observe: StageObserver | None = None,
) -> list[DayReport]:
    """Run the pipeline for every business date from start to end (inclusive). Each stage runs as its job's
    role (warning_models.roles): load and gate as the loader, dbt as the transformer, indicators and alert cases as
    the modeler. Stages: load, gate, dbt_build, indicators (one per day), alert_cases."""
    from warning_models.indicators import run_indicators
    from warning_models.transform import DAILY_BUILD, run_dbt

    settings = settings or load_settings()
    url = url or warehouse_url(settings)
    migrate(url)
    run_id = f"{start.isoformat()}..{end.isoformat()}:{uuid.uuid4().hex[:8]}"
    days = list(days_between(start, end))
    loader_url = job_url(url, JobRole.LOADER)
    with connect(loader_url) as conn:
        with stage(conn, run_id, end, "load", observe) as detail:
            loaded = load_days(conn, settings, days, progress)
            detail["rows"] = sum(r.row_count or 0 for d in loaded for r in d.loads if r.status is LoadStatus.LOADED)
            detail["days"] = len(days)
        with stage(conn, run_id, end, "gate", observe) as detail:
            ingested = gate_loaded(conn, loader_url, settings, loaded)
            detail.update({str(r.business_date): _ingest_detail(r) for r in ingested if r.quarantined or r.missing})
            detail["rows"] = sum(_gated_rows(r) for r in ingested)
        reports = [DayReport(r.business_date, r) for r in ingested]
        with stage(conn, run_id, end, "dbt_build", observe) as detail:
            run_dbt(list(DAILY_BUILD), url, settings)
            detail["models_through"] = end.isoformat()
        for report in _progress(reports, "indicators", progress):
            with stage(conn, run_id, report.business_date, "indicators", observe) as detail:
                report.indicators = run_indicators(url, report.business_date)
                detail["indicators"] = [o.as_dict() for o in report.indicators]
                detail["rows"] = sum(o.values + o.alerts for o in report.indicators)
        with stage(conn, run_id, end, "alert_cases", observe) as detail:
            detail["cases"] = detail["rows"] = update_alert_cases(url, since=start)
    return reports


def _gated_rows(report: IngestReport) -> int:
    rows = {l.batch_id: l.row_count or 0 for l in report.loads}
    return sum(rows.get(g.batch_id, 0) for g in report.gates)


def update_alert_cases(url: str, since: dt.date | None = None) -> int:
    """Bring the alert cases to the latest business date (as the modeler): from the alerts of ``since`` on when the
    run only added days (warning_models.alerts.lifecycle.extend_cases), else rebuilt from every alert; how many
    cases changed."""
    from warning_models.alerts.lifecycle import extend_cases, refresh_cases

    with connect(job_url(url, JobRole.MODELER)) as conn:
        return extend_cases(conn, since) if since is not None else len(refresh_cases(conn))


def last_scored_day(conn: psycopg2.extensions.connection) -> dt.date | None:
    """The latest business date the indicators ran for (what a recompute must reach)."""
    with conn.cursor() as cur:
        cur.execute("select max(as_of_date) from warning.model_runs")
        (day,) = cur.fetchone()
    conn.commit()
    return day


def recompute_from(start: dt.date, *, settings: Settings, url: str, reason: str) -> list[dt.date]:
    """Rebuild the models, then the indicators of every day from `start` to the last scored day (a replay's effect)."""
    from warning_models.indicators import run_indicators
    from warning_models.transform import DAILY_BUILD, run_dbt

    run_id = f"recompute:{start.isoformat()}:{uuid.uuid4().hex[:8]}"
    with connect(job_url(url, JobRole.MODELER)) as conn:
        end = max(last_scored_day(conn) or start, start)
        with stage(conn, run_id, start, "dbt_build") as detail:
            run_dbt(list(DAILY_BUILD), url, settings)
            detail["reason"] = reason
        days = list(days_between(start, end))
        for day in days:
            with stage(conn, run_id, day, "indicators") as detail:
                detail["indicators"] = [o.as_dict() for o in run_indicators(url, day)]
                detail["reason"] = reason
        with stage(conn, run_id, end, "alert_cases") as detail:
            detail["cases"] = update_alert_cases(url)
    return days


def run_day(business_date: dt.date, *, settings: Settings | None = None, url: str | None = None) -> DayReport:
    """The daily run for one business date (what the Airflow DAG does, in one process)."""
    return backfill(business_date, business_date, settings=settings, url=url)[0]


def _progress(items: list[Any], label: str, enabled: bool) -> Any:
    if not enabled:
        return items
    from tqdm import tqdm

    return tqdm(items, desc=label, unit="day")
