"""
### ews_model — models, early-warning indicators, alerts and the daily report of a business date

Starts when **ews_load** has gated a day (asset **ews_gated_batches**, the business date in the event), or by hand
with the `business_date` param (and `domains` to score only some):

1. `business_dates` — the days: the param, else every day the triggering events name and every day ews_load
   gated after the last modelled one (an event that arrives while a run of this DAG is active starts no run:
   Airflow issue #56050), oldest first (several when ews_load ran more than once before this run started, as in
   a backfill).
2. `dbt` — from the run's start, beside `business_dates`: staging → intermediate → marts → the BI views
   (Cosmos: one `dbt build` task per model, with its tests; a test of several models runs after all of them; or
   one task for the whole build: `EWS_DBT_EXECUTION_MODE`,
   docs/benchmarks.md). The models are incremental: a run builds what the newly passed batches change. Staging
   reads only batches that passed the gate.
3. `indicators` — one mapped task per domain (credit, market, macro, access), the days in order: statsmodels fits
   written to `warning.model_runs`, `warning.indicator_values` and `warning.alerts`; then `market_instruments`,
   the per-instrument VaR and backtests in `EWS_MARKET_INSTRUMENT_SHARDS` mapped tasks (default 4), which the
   Celery workers share (docs/benchmarks.md).
4. `alert_cases` — the daily alerts become cases (new, open, acknowledged, resolved, suppressed; `ews alerts`).
5. `notify` — cases that reached high severity, once each, batched: email and webhook (EWS_ALERTS_*).
6. `report` — the day's HTML report with its charts (`$EWS_HOME/reports/<date>/index.html`).
7. `docs` — dbt docs and the GX Data Docs rebuilt (links below), after the report.

Roles (docs/security.md): dbt as `ews_transformer`, indicators, cases and notifications as `ews_modeler`, the
report as `ews_bi_reader`. Rerunning a date is idempotent. A failed task is retried with backoff, then reported
by the alert channels.
"""

from __future__ import annotations

import os
from pathlib import Path

import pendulum
from airflow.sdk import Asset, Param, dag, task
from cosmos import DbtTaskGroup, ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
from cosmos.constants import ExecutionMode, InvocationMode, LoadMode, TestBehavior
from cosmos.operators.local import DbtBuildLocalOperator

from warning_models.docs_links import docs_links
from warning_models.privacy import TELEMETRY_OFF
from warning_models.pseudonyms import pgoptions_with_keys
from warning_models.schedule import GATED_BATCHES_NAME, GATED_BATCHES_URI
from warning_models.task_failures import notify_task_failure
from warning_models.transform import DAILY_BUILD, DBT_PROFILE, DBT_TARGET, dbt_environment

os.environ.update(TELEMETRY_OFF)
if os.environ.get("EWS_DATABASE_URL"):
    # dbt's profile (dbt_project/profiles.yml) reads the connection from the worker's environment, as the
    # transformer role: set here, not in the Cosmos operators, so no password is rendered into Airflow's metadata
    os.environ.update(dbt_environment(os.environ["EWS_DATABASE_URL"]))
if os.environ.get("EWS_PSEUDONYM_KEY"):
    # the pseudonym keys reach dbt's connections as session settings, never as SQL text (warning_models.pseudonyms)
    os.environ["PGOPTIONS"] = pgoptions_with_keys()

GATED_BATCHES = Asset(name=GATED_BATCHES_NAME, uri=GATED_BATCHES_URI)
DBT_PROJECT_DIR = Path(os.environ.get("EWS_DBT_PROJECT_DIR", Path(__file__).resolve().parents[1] / "dbt_project"))
# dbt's target folder: the manifest the history build or the image's `ews dbt parse` wrote, with its partial parse
DBT_TARGET_DIR = Path(os.environ.get("EWS_DBT_TARGET_DIR", DBT_PROJECT_DIR / "target"))
DBT_MANIFEST = DBT_TARGET_DIR / "manifest.json"
DOMAINS = ["credit", "market", "macro", "access"]
# How Cosmos runs dbt (EWS_DBT_EXECUTION_MODE): "local", one `dbt build` per model task; "watcher", one
# `dbt build` whose models each report to their own deferrable task (a model's task runs it alone when retried;
# needs a triggerer, so not under `airflow dags test`); or "build", one task running the day's whole `dbt build`,
# as `ews run` does (each model's result in the task's log and dbt docs, a retry builds them all again, and
# incremental models rebuild nothing already built). docs/benchmarks.md measures the three.
DBT_EXECUTION = os.environ.get("EWS_DBT_EXECUTION_MODE", "local")
DBT_ONE_BUILD = DBT_EXECUTION == "build"
DBT_EXECUTION_MODE = ExecutionMode.LOCAL if DBT_ONE_BUILD else ExecutionMode(DBT_EXECUTION)
# The market indicator's per-instrument VaR in this many mapped tasks (EWS_MARKET_INSTRUMENT_SHARDS)
INSTRUMENT_SHARDS = int(os.environ.get("EWS_MARKET_INSTRUMENT_SHARDS", "4"))
DEFAULT_ARGS = {
    "owner": "risk-data-engineering",
    "retries": 2,
    "retry_delay": pendulum.duration(minutes=1),
    "retry_exponential_backoff": True,
    "max_retry_delay": pendulum.duration(minutes=20),
    "on_failure_callback": notify_task_failure,
}


@dag(
    schedule=[GATED_BATCHES],
    start_date=pendulum.datetime(2025, 1, 2, 6, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    params={
        "business_date": Param(
            None, type=["null", "string"], format="date",
            description="Model this business date (YYYY-MM-DD); empty: the day ews_load gated.",
        ),
        "domains": Param(
            DOMAINS, type="array", items={"type": "string", "enum": DOMAINS},
            description="The domains whose indicators run.",
        ),
    },
    tags=["ews", "daily", "models", "alerts"],
    doc_md=__doc__ + docs_links(),
)
def ews_model() -> None:
    @task
    def business_dates() -> list[str]:
        from airflow.sdk import get_current_context

        from warning_models.pipeline import gated_days_not_modelled
        from warning_models.roles import JobRole, job_url
        from warning_models.schedule import business_dates_of_model_run
        from warning_models.warehouse import connect, warehouse_url

        context = get_current_context()
        events = context.get("triggering_asset_events") or {}
        extras = [dict(e.extra or {}) for _, asset_events in events.items() for e in asset_events]
        with connect(job_url(warehouse_url(), JobRole.MODELER)) as conn:
            waiting = gated_days_not_modelled(conn)
        param = context["params"].get("business_date")
        return [d.isoformat() for d in business_dates_of_model_run(param, extras, waiting)]

    @task
    def domains() -> list[str]:
        from airflow.sdk import get_current_context

        return list(get_current_context()["params"]["domains"]) or DOMAINS

    profile = ProfileConfig(
        profile_name=DBT_PROFILE, target_name=DBT_TARGET, profiles_yml_filepath=DBT_PROJECT_DIR / "profiles.yml"
    )
    # the CLI's daily build (warning_models.transform.DAILY_BUILD): no unit tests (CI runs them)
    daily_build_flags = list(DAILY_BUILD[1:])
    if DBT_ONE_BUILD:
        # as `ews run`: dbt reads and updates the target folder's partial parse (Cosmos looks for one only in its
        # own cache and the project's target/, so a new worker's first build would parse in full), and writes its
        # artefacts there; the compiled SQL is in that folder and dbt docs, not in the task's rendered fields
        dbt = DbtBuildLocalOperator(
            task_id="dbt_build", project_dir=DBT_PROJECT_DIR, profile_config=profile, install_deps=False,
            invocation_mode=InvocationMode.DBT_RUNNER, should_store_compiled_sql=False,
            dbt_cmd_flags=[*daily_build_flags, "--target-path", str(DBT_TARGET_DIR)],
        )
    else:
        dbt = DbtTaskGroup(
            group_id="dbt",
            project_config=ProjectConfig(
                dbt_project_path=DBT_PROJECT_DIR, manifest_path=DBT_MANIFEST, install_dbt_deps=False
            ),
            profile_config=profile,
            execution_config=ExecutionConfig(execution_mode=DBT_EXECUTION_MODE, invocation_mode=InvocationMode.DBT_RUNNER),
            render_config=RenderConfig(
                load_method=LoadMode.DBT_MANIFEST,
                # local: a model's task builds it with its tests; watcher: the tests report to a task after the model's
                test_behavior=TestBehavior.BUILD if DBT_EXECUTION_MODE is ExecutionMode.LOCAL else TestBehavior.AFTER_EACH,
                should_detach_multiple_parents_tests=True,
            ),
            operator_args={"dbt_cmd_flags": daily_build_flags},
        )

    @task(map_index_template="{{ ews_domain }}")
    def indicators(domain: str, days: list[str]) -> list[dict[str, object]]:
        import dataclasses
        import datetime as dt

        from airflow.sdk import get_current_context

        get_current_context()["ews_domain"] = domain  # type: ignore[typeddict-unknown-key]
        from warning_models.indicators import run_indicators
        from warning_models.indicators.market_var import INDICATOR, MarketVarConfig
        from warning_models.warehouse import warehouse_url

        url = warehouse_url()
        # the instruments' VaR comes from the instrument shards, spread over the workers (next task)
        configs = {INDICATOR: dataclasses.replace(MarketVarConfig.from_env(), instruments=False)}
        return [
            o.as_dict() for day in days for o in run_indicators(url, dt.date.fromisoformat(day), [domain], configs)
        ]

    @task
    def instrument_shards() -> list[int]:
        return list(range(INSTRUMENT_SHARDS))

    @task(map_index_template="{{ ews_shard }}")
    def market_instruments(shard: int, days: list[str]) -> dict[str, int]:
        import datetime as dt

        from airflow.sdk import get_current_context

        get_current_context()["ews_shard"] = f"{shard + 1} of {INSTRUMENT_SHARDS}"  # type: ignore[typeddict-unknown-key]
        from warning_models.errors import InsufficientHistoryError
        from warning_models.indicators.market_var import publish_instrument_shard
        from warning_models.roles import JobRole, job_url
        from warning_models.warehouse import connect, warehouse_url

        written = {}
        with connect(job_url(warehouse_url(), JobRole.MODELER)) as conn:
            for day in days:
                try:
                    written[day] = publish_instrument_shard(conn, dt.date.fromisoformat(day), shard, INSTRUMENT_SHARDS)
                except InsufficientHistoryError:
                    written[day] = 0  # no market run that day
                conn.commit()
        return written

    @task
    def alert_cases(days: list[str]) -> int:
        import datetime as dt

        from warning_models.pipeline import update_alert_cases
        from warning_models.warehouse import warehouse_url

        return update_alert_cases(warehouse_url(), since=dt.date.fromisoformat(days[0]))

    @task
    def notify(days: list[str]) -> dict[str, int]:
        from airflow.sdk import get_current_context

        from warning_models.alerts.notify import notify_cases
        from warning_models.roles import JobRole, job_url
        from warning_models.warehouse import connect, warehouse_url

        with connect(job_url(warehouse_url(), JobRole.MODELER)) as conn:
            return notify_cases(conn, get_current_context()["run_id"])

    @task
    def report(days: list[str]) -> str:
        import datetime as dt

        from warning_models.config import load_settings
        from warning_models.report.build import report_dir, write_report
        from warning_models.roles import JobRole, job_url
        from warning_models.warehouse import connect, warehouse_url

        settings = load_settings()
        business_date = dt.date.fromisoformat(days[-1])
        with connect(job_url(warehouse_url(settings), JobRole.BI_READER)) as conn:
            page = write_report(conn, business_date, report_dir(settings.home, business_date))
        print(f"daily report: {page}")
        return str(page)

    @task
    def docs(days: list[str]) -> dict[str, str]:
        import datetime as dt

        from warning_models.config import load_settings
        from warning_models.gx_context import build_data_docs
        from warning_models.roles import JobRole, job_url
        from warning_models.summary import alert_summary
        from warning_models.transform import build_dbt_docs
        from warning_models.warehouse import connect, warehouse_url

        settings = load_settings()
        url = warehouse_url(settings)
        gx = build_data_docs(job_url(url, JobRole.LOADER), settings.gx_home)
        dbt_docs = build_dbt_docs(url, settings)
        first, last = dt.date.fromisoformat(days[0]), dt.date.fromisoformat(days[-1])
        with connect(job_url(url, JobRole.BI_READER)) as conn:
            print(f"Alerts for {first} .. {last}\n{alert_summary(conn, first, last)}")
        return {"data_docs": str(gx), "dbt_docs": str(dbt_docs)}

    days = business_dates()
    scored = indicators.partial(days=days).expand(domain=domains())
    instruments = market_instruments.partial(days=days).expand(shard=instrument_shards())
    cases = alert_cases(days)
    # dbt builds what the passed batches change, whichever days they are: it starts with the run, beside
    # business_dates, and the indicators wait for both
    dbt >> scored >> instruments >> cases
    page = report(days)
    cases >> [notify(days), page]
    page >> docs(days)  # the docs sites after the day's report, which they would slow on the same cores


ews_model()
