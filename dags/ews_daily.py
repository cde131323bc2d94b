"""
### ews_daily — the early-warning system's daily run

For one **business date** (the UTC date the run's data interval starts on; the run at 06:00 UTC on D+1
processes D):

1. `migrate` — warehouse schemas ews owns (raw, quarantine, audit, warning) up to date.
2. `ingest` — one task per landing source: COPY the day's CSV into `raw`, then the source's Great
   Expectations suite (landing contract, business rules, authenticity checks against history). A batch
   failing a `block` check goes to `quarantine` with the failed rules and file lines (`ews quarantine`);
   `warn` checks raise data-quality alerts. Sources whose checks read another source's day (loans → borrowers,
   repayments → loans, loan_performance → loans and repayments) wait for it; the others run in parallel.
3. `dbt` — staging → intermediate → marts (Cosmos, one task per model, tests after each model). Staging reads
   only batches that passed the gate.
4. `indicators` — one mapped task per domain (credit, market, macro, access): statsmodels fits written to
   `warning.model_runs`, `warning.indicator_values` and `warning.alerts`.
5. `summary` — batches held back and alerts raised, in the task log; the GX Data Docs site rebuilt.

Each step runs as its job's least-privilege role (docs/security.md): `ingest` as `ews_loader`, `dbt` as
`ews_transformer`, `indicators` as `ews_modeler`. With `EWS_WAREHOUSE_CSVLOG` set, the warehouse's own csvlog of
the day joins that day's access events before they are loaded (docs/access_risk.md).

Warehouse: `EWS_DATABASE_URL` in the Airflow environment (never in this file), or a login per job
(`EWS_LOADER_DATABASE_URL`, `EWS_TRANSFORMER_DATABASE_URL`, `EWS_MODELER_DATABASE_URL`); the pseudonym keys
`EWS_PSEUDONYM_KEY` and `EWS_CONSORTIUM_KEY` likewise. Rerunning a date is idempotent.
"""

from __future__ import annotations

import os
from pathlib import Path

import pendulum
from airflow.sdk import TaskGroup, dag, task
from airflow.timetables.trigger import CronTriggerTimetable
from cosmos import DbtTaskGroup, ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
from cosmos.constants import ExecutionMode, InvocationMode, LoadMode, TestBehavior

from warning_models.contract import SOURCE_ORDER, UPSTREAM
from warning_models.privacy import TELEMETRY_OFF
from warning_models.pseudonyms import pgoptions_with_keys
from warning_models.schedule import CRON, INTERVAL
from warning_models.transform import dbt_environment

os.environ.update(TELEMETRY_OFF)
if os.environ.get("EWS_PSEUDONYM_KEY"):
    # the pseudonym keys reach dbt's connections as session settings, never as SQL text (warning_models.pseudonyms)
    os.environ["PGOPTIONS"] = pgoptions_with_keys()

DBT_PROJECT_DIR = Path(os.environ.get("EWS_DBT_PROJECT_DIR", Path(__file__).resolve().parents[1] / "dbt_project"))
DBT_MANIFEST = Path(os.environ.get("EWS_DBT_TARGET_DIR", DBT_PROJECT_DIR / "target")) / "manifest.json"
DOMAINS = ["credit", "market", "macro", "access"]


def _dbt_env() -> dict[str, str]:
    url = os.environ.get("EWS_DATABASE_URL")
    return dbt_environment(url) if url else {}  # dbt connects as the transformer role


def _business_date() -> "pendulum.Date":
    from airflow.sdk import get_current_context

    from warning_models.schedule import business_date_for

    return business_date_for(get_current_context()["data_interval_start"])


@dag(
    schedule=CronTriggerTimetable(CRON, timezone="UTC", interval=INTERVAL),
    start_date=pendulum.datetime(2025, 1, 2, 6, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args={"owner": "risk-data-engineering", "retries": 1, "retry_delay": pendulum.duration(minutes=2)},
    tags=["ews", "daily", "risk"],
    doc_md=__doc__,
)
def ews_daily() -> None:
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

    dbt = DbtTaskGroup(
        group_id="dbt",
        project_config=ProjectConfig(
            dbt_project_path=DBT_PROJECT_DIR, manifest_path=DBT_MANIFEST, install_dbt_deps=False, env_vars=_dbt_env()
        ),
        profile_config=ProfileConfig(
            profile_name="ews", target_name="warehouse", profiles_yml_filepath=DBT_PROJECT_DIR / "profiles.yml"
        ),
        execution_config=ExecutionConfig(execution_mode=ExecutionMode.LOCAL, invocation_mode=InvocationMode.DBT_RUNNER),
        render_config=RenderConfig(load_method=LoadMode.DBT_MANIFEST, test_behavior=TestBehavior.AFTER_EACH),
    )

    @task(map_index_template="{{ ews_domain }}")
    def indicators(domain: str) -> list[dict[str, object]]:
        from airflow.sdk import get_current_context

        get_current_context()["ews_domain"] = domain  # type: ignore[typeddict-unknown-key]
        from warning_models.indicators import run_indicators
        from warning_models.warehouse import warehouse_url

        outcomes = run_indicators(warehouse_url(), _business_date(), [domain])
        return [o.as_dict() for o in outcomes]

    @task
    def summary(ingested: list[dict[str, object]]) -> dict[str, object]:
        from warning_models.config import load_settings
        from warning_models.gx_context import build_data_docs
        from warning_models.roles import JobRole, job_url
        from warning_models.summary import alert_summary
        from warning_models.warehouse import connect, warehouse_url

        day = _business_date()
        settings = load_settings()
        docs = build_data_docs(job_url(warehouse_url(settings), JobRole.LOADER), settings.gx_home)
        print(f"Great Expectations Data Docs: {docs}")
        held = [item for item in ingested if item["held_back"] or item["missing"]]
        with connect(warehouse_url()) as conn:
            print(f"Alerts for {day}\n{alert_summary(conn, day, day)}")
        for item in held:
            print(f"held back: {item}")
        return {"business_date": str(day), "held_back": held}

    with TaskGroup("ingest", tooltip="load and gate each landing source") as ingest_group:
        ingested = {source: ingest.override(task_id=source)(source=source) for source in SOURCE_ORDER}
    for source, upstream in UPSTREAM.items():
        for parent in upstream:
            ingested[parent] >> ingested[source]
    migrate() >> ingest_group >> dbt
    scored = indicators.expand(domain=DOMAINS)
    dbt >> scored >> summary(list(ingested.values()))


ews_daily()
