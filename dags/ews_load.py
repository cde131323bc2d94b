"""
### ews_load — the day's landing files into the warehouse, through the quality gate

For one **business date** (the UTC date the run's data interval starts on: the run at 06:00 UTC on D+1 processes
D; a manual run may name it with the `business_date` param). Trigger a day by hand with the param and no logical
date: a manual run's logical date X processes X - 1 day, and X is the logical date the schedule and
`airflow backfill create` give the run of day X, which a backfill then skips as already there. Backfill days D1..Dn
with `airflow backfill create --dag-id ews_load --from-date <D1+1>T06:00:00+00:00 --to-date <Dn+1>T06:00:00+00:00
--max-active-runs 1`: one day at a time, in order (a backfill runs 10 at once by default; a day's gate checks it
against the day before), each day's tasks spread over the workers.

1. `migrate` — the warehouse's own schemas (raw, quarantine, audit, warning, the job roles) up to date.
2. `ingest` — one task per landing source: COPY the day's CSV into `raw`, then the source's Great Expectations
   suite (landing contract, business rules, authenticity checks against history). A batch failing a `block`
   check goes to `quarantine` with the failed rules and file lines (`ews quarantine`); `warn` checks raise
   data-quality alerts. Sources whose checks read another source's day (loans → borrowers, repayments → loans,
   loan_performance → loans and repayments) wait for it; the others run in parallel. With
   `EWS_WAREHOUSE_CSVLOG` set, the warehouse's own csvlog of the day joins that day's access events.
3. `gated` — records the day's outcome and updates the asset **ews_gated_batches** with the business date:
   that starts **ews_model** (dbt, indicators, alerts, report) for the same day.

Runs as the least-privilege role `ews_loader` (docs/security.md). Rerunning a date is idempotent: a file loaded
before is recognised by its checksum; a corrected file supersedes the day's batch only if it passes.
Configuration: `EWS_DATABASE_URL` (or `EWS_LOADER_DATABASE_URL`), `EWS_LANDING_DIR`, in the Airflow environment,
never in this file. A failed task is retried with backoff, then reported by the alert channels (EWS_ALERTS_*).
"""

from __future__ import annotations

import os

import pendulum
from airflow.sdk import Asset, Param, TaskGroup, dag, task
from airflow.timetables.trigger import CronTriggerTimetable

from warning_models.contract import SOURCE_ORDER, UPSTREAM
from warning_models.docs_links import docs_links
from warning_models.privacy import TELEMETRY_OFF
from warning_models.schedule import CRON, GATED_BATCHES_NAME, GATED_BATCHES_URI, INTERVAL
from warning_models.task_failures import notify_task_failure

os.environ.update(TELEMETRY_OFF)

GATED_BATCHES = Asset(name=GATED_BATCHES_NAME, uri=GATED_BATCHES_URI)
DEFAULT_ARGS = {
    "owner": "risk-data-engineering",
    "retries": 2,
    "retry_delay": pendulum.duration(minutes=1),
    "retry_exponential_backoff": True,
    "max_retry_delay": pendulum.duration(minutes=20),
    "on_failure_callback": notify_task_failure,
}


def _business_date() -> "pendulum.Date":
    from airflow.sdk import get_current_context

    from warning_models.schedule import business_date_of_run

    context = get_current_context()
    return business_date_of_run(context["params"].get("business_date"), context.get("data_interval_start"))


@dag(
    schedule=CronTriggerTimetable(CRON, timezone="UTC", interval=INTERVAL),
    start_date=pendulum.datetime(2025, 1, 2, 6, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    params={
        "business_date": Param(
            None, type=["null", "string"], format="date",
            description="Load this business date instead of the one of the data interval (YYYY-MM-DD).",
        ),
    },
    tags=["ews", "daily", "load", "data-quality"],
    doc_md=__doc__ + docs_links(),
)
def ews_load() -> None:
    @task
    def migrate() -> list[str]:
        from warning_models.warehouse import migrate as apply_migrations

        return apply_migrations()

    @task
    def ingest(source: str) -> dict[str, object]:
        from warning_models.config import load_settings
        from warning_models.pipeline import IngestReport, ingest_source
        from warning_models.roles import JobRole, job_url
        from warning_models.warehouse import connect, warehouse_url

        settings = load_settings()
        url = job_url(warehouse_url(settings), JobRole.LOADER)
        report = IngestReport(_business_date())
        with connect(url) as conn:
            ingest_source(conn, url, settings, source, report.business_date, report)
        return {"source": source, "business_date": str(report.business_date), "held_back": report.quarantined,
                "missing": report.missing}

    @task(outlets=[GATED_BATCHES])
    def gated(ingested: list[dict[str, object]]) -> dict[str, object]:
        from airflow.sdk import get_current_context

        from warning_models.config import load_settings
        from warning_models.pipeline import record_gated_day
        from warning_models.roles import JobRole, job_url
        from warning_models.warehouse import connect, warehouse_url

        day = _business_date()
        held = [item for item in ingested if item["held_back"] or item["missing"]]
        for item in held:
            print(f"held back or missing: {item}")
        context = get_current_context()
        with connect(job_url(warehouse_url(load_settings()), JobRole.LOADER)) as conn:
            record_gated_day(conn, context["run_id"], day, {"held_back": held})
        context["outlet_events"][GATED_BATCHES].extra = {"business_date": day.isoformat()}
        return {"business_date": day.isoformat(), "held_back": held}

    with TaskGroup("ingest", tooltip="load and gate each landing source") as ingest_group:
        ingested = {source: ingest.override(task_id=source)(source=source) for source in SOURCE_ORDER}
    for source, upstream in UPSTREAM.items():
        for parent in upstream:
            ingested[parent] >> ingested[source]
    migrate() >> ingest_group
    gated(list(ingested.values()))


ews_load()
