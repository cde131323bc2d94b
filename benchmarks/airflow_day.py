"""A business day through Airflow and Cosmos, on a warehouse in the state the CLI run found it.

- ``test``: ``airflow dags test ews_load`` then ``ews_model`` for the day, each in one process (no scheduler);
- ``celery``: the deployment's shape, CeleryExecutor with Redis and two workers (benchmarks/celery_cluster.py):
  ews_load is triggered for the day, ews_model starts from its asset event; the wall time runs from ews_load's
  start to ews_model's end. The cluster's start-up (a deployment runs all the time) is not counted.

Both read the dbt manifest the warehouse's history build wrote (Cosmos renders from it, dbt parses partially).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Collection
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchmarks import cosmos_profile
from benchmarks.meter import CpuSampler
from warning_models.privacy import TELEMETRY_OFF
from warning_models.schedule import logical_date_for

if TYPE_CHECKING:
    from benchmarks.celery_cluster import TaskTimes
    from benchmarks.run import Warehouse

REPO = Path(__file__).resolve().parents[1]
AIRFLOW = str(Path(sys.executable).with_name("airflow"))


def ews_env(warehouse: "Warehouse") -> dict[str, str]:
    """What the DAGs' tasks read: the warehouse, its landing folder and home, the dbt manifest, the keys."""
    s = warehouse.settings
    return {
        "EWS_DATABASE_URL": warehouse.url,
        "EWS_HOME": str(s.home),
        "EWS_LANDING_DIR": str(s.landing_dir),
        "EWS_DBT_TARGET_DIR": str(s.dbt_target_dir),
        "EWS_PSEUDONYM_KEY": os.environ["EWS_PSEUDONYM_KEY"],
        "EWS_CONSORTIUM_KEY": os.environ.get("EWS_CONSORTIUM_KEY", ""),
        **TELEMETRY_OFF,
    }


def measure(
    mode: str, warehouse: "Warehouse", day: dt.date, airflow_home: Path, dbt_execution: str,
    backfill: list[dt.date] | None = None,
) -> dict[str, Any]:
    """The day through Airflow (``mode`` test or celery), Cosmos running dbt in ``dbt_execution`` mode; on Celery
    then ``backfill``, the days after it, as one Airflow backfill of ews_load (spread over the workers)."""
    env = {
        **ews_env(warehouse), "EWS_DBT_EXECUTION_MODE": dbt_execution,
    }
    out = _dags_test(env, day, airflow_home) if mode == "test" else _celery(env, day, airflow_home, backfill or [])
    return {"dbt_execution": dbt_execution, **out}


def _dags_test(ews: dict[str, str], day: dt.date, airflow_home: Path) -> dict[str, Any]:
    airflow_home.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ, **ews,
        "AIRFLOW_HOME": str(airflow_home), "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{airflow_home}/airflow.db",
    }
    subprocess.run([AIRFLOW, "db", "migrate"], env=env, check=True, capture_output=True)
    out: dict[str, Any] = {"mode": "test"}
    started = time.perf_counter()
    for name, args in (
        ("ews_load", ["ews_load", logical_date_for(day).isoformat()]),
        ("ews_model", ["ews_model", "-c", json.dumps({"business_date": day.isoformat()})]),
    ):
        t = time.perf_counter()
        done = subprocess.run([AIRFLOW, "dags", "test", *args], env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"airflow dags test {name} failed:\n{(done.stdout + done.stderr)[-3000:]}")
        out[f"{name}_s"] = round(time.perf_counter() - t, 2)
    out["wall_s"] = round(time.perf_counter() - started, 2)
    return out


def _celery(ews: dict[str, str], day: dt.date, airflow_home: Path, backfill: list[dt.date]) -> dict[str, Any]:
    from benchmarks.celery_cluster import ClusterConfig, LocalCeleryCluster, max_concurrency
    from benchmarks.warehouses import admin_url, database_url

    metadata = database_url(admin_url(), "ews_bench_airflow_meta").replace("postgresql://", "postgresql+psycopg2://")
    config = ClusterConfig(airflow_home=airflow_home, metadata_url=metadata, extra_env=ews)
    out: dict[str, Any] = {"mode": "celery", "workers": config.workers, "worker_concurrency": config.worker_concurrency}
    with LocalCeleryCluster(config) as cluster:
        out["cluster_startup_s"] = round(cluster.startup_s, 1)
        # the day is triggered by hand; the run the cron would start on unpausing (today's date) is skipped
        skipped = cluster.skip_due_cron_run("ews_load")
        for dag_id in ("ews_load", "ews_model"):
            cluster.unpause(dag_id)
        # no logical date: a manual run's logical date is the one the backfill gives the next day's run (skipped)
        with CpuSampler(cluster.component_processes()) as cpu:
            load_id = cluster.trigger("ews_load", conf={"business_date": day.isoformat()})
            load = cluster.wait_for_run("ews_load", load_id, timeout_s=3600)
            model = _asset_run(cluster, after=load.end)
            model = cluster.wait_for_run("ews_model", model, timeout_s=7200)
        tasks = cluster.task_instances("ews_load", load_id) + cluster.task_instances("ews_model", model.run_id)
        if backfill:
            out["backfill"] = _backfill(cluster, backfill, done={load_id, model.run_id, skipped})
    # like for like with the CLI's day: up to the report; the docs sites (dbt docs, GX Data Docs) the CLI does not
    # build are counted apart
    day_tasks = [t for t in tasks if t.task_id != "docs" and t.end is not None]
    docs = next((t for t in tasks if t.task_id == "docs"), None)
    day_end = max(t.end for t in day_tasks)
    out.update({
        "ews_load_s": round(load.wall_s or 0, 2),
        "ews_model_s": round(model.wall_s or 0, 2),
        "wall_s": round((day_end - load.start).total_seconds(), 2),
        # CPU seconds over that span: the machine's, and each component's process tree (its tasks in a worker's)
        "cpu_s": _cpu_by_part(cpu.between(load.start.timestamp(), day_end.timestamp()), cluster.worker_names),
        "docs_s": round(docs.duration or 0, 2) if docs else None,
        "tasks": len(tasks),
        "tasks_per_worker": dict(Counter(t.hostname for t in tasks)),
        "max_concurrency": max_concurrency(tasks),
        "task_seconds": round(sum(t.duration or 0 for t in tasks), 1),
        "slowest_tasks": sorted(((t.label, round(t.duration or 0, 1)) for t in tasks), key=lambda x: -x[1])[:8],
        # each task's scheduled, queued, start and end, in seconds from ews_load's start: the gaps between tasks
        "timeline": _timeline(tasks, load.start),
        # times the scheduler found the run it meant to create already there (a loop with no progress: 0 expected)
        "scheduler_existing_run_retries": _log_count(airflow_home / "logs" / "scheduler.log", "run already exists"),
        # where the dbt tasks' time went, read off their logs (benchmarks/cosmos_profile.py)
        "cosmos_profile": cosmos_profile.profile(airflow_home).get(model.run_id, cosmos_profile.RunProfile()).as_dict(),
    })
    return out


def _log_count(path: Path, text: str) -> int:
    with path.open(errors="replace") as lines:
        return sum(text in line for line in lines)


def _cpu_by_part(used: dict[str, float], worker_names: Collection[str]) -> dict[str, float]:
    """The machine's CPU seconds split: Airflow's components, the workers (with their tasks), the rest (PostgreSQL,
    the harness)."""
    workers = sum(v for k, v in used.items() if k in worker_names)
    components = {k: v for k, v in used.items() if k != "machine" and k not in worker_names}
    return {
        "machine": used["machine"], **components, "workers": round(workers, 1),
        "rest": round(used["machine"] - workers - sum(components.values()), 1),
    }


def _timeline(tasks: list[TaskTimes], origin: dt.datetime) -> list[list[Any]]:
    """[label, scheduled, queued, start, end] of each task, seconds from ``origin``, in the order they started."""

    def offset(moment: dt.datetime | None) -> float | None:
        return None if moment is None else round((moment - origin).total_seconds(), 2)

    ordered = sorted(tasks, key=lambda t: t.start or t.queued or origin)
    return [[t.label, offset(t.scheduled), offset(t.queued), offset(t.start), offset(t.end)] for t in ordered]


def _asset_run(cluster: Any, after: dt.datetime | None, timeout_s: float = 300) -> str:
    """The ews_model run the asset event of the load run started."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        runs = [r for r in cluster.runs("ews_model") if r.run_type == "asset_triggered"]
        if runs:
            return str(runs[-1].run_id)
        time.sleep(1)
    raise RuntimeError("ews_model was not started by ews_load's asset event")


def _backfill(cluster: Any, days: list[dt.date], done: set[str | None], timeout_s: float = 7200) -> dict[str, Any]:
    """An Airflow backfill of ews_load over ``days``: its runs, and the ews_model runs their asset events start,
    until every business date is modelled; where their tasks ran."""
    from benchmarks.celery_cluster import max_concurrency

    started = time.perf_counter()
    first, last = logical_date_for(days[0]), logical_date_for(days[-1])
    # one day at a time, as ews_load's max_active_runs=1 says (a backfill's own default is 10): a day's gate checks
    # it against the day before; each day's tasks still spread over the workers
    subprocess.run(
        [AIRFLOW, "backfill", "create", "--dag-id", "ews_load", "--from-date", first.isoformat(),
         "--to-date", last.isoformat(), "--max-active-runs", "1"],
        env=cluster.env(), check=True, capture_output=True, text=True,
    )
    deadline = time.monotonic() + timeout_s
    wanted = {d.isoformat() for d in days}
    idle_since: float | None = None
    while True:
        loads = [r for r in cluster.runs("ews_load") if r.run_id not in done]
        models = [r for r in cluster.runs("ews_model") if r.run_id not in done]
        modelled = {d for r in models if r.state == "success" for d in _model_days(cluster, r.run_id)}
        settled = len(loads) == len(days) and all(r.state == "success" for r in loads) and all(
            r.state in ("success", "failed") for r in models
        )
        if settled and wanted <= modelled:
            break
        # every load done, no model run left, a day not modelled: its asset event started no run (recorded)
        idle_since = (idle_since or time.monotonic()) if settled else None
        if idle_since is not None and time.monotonic() - idle_since > 120:
            break
        if len(loads) < len(days) and _backfills_completed(cluster, "ews_load"):
            raise RuntimeError(f"the backfill ran {len(loads)} of {len(days)} days: {[r.run_id for r in loads]}")
        if any(r.state == "failed" for r in loads + models) or time.monotonic() > deadline:
            raise RuntimeError(f"backfill did not complete: {[(r.dag_id, r.run_id, r.state) for r in loads + models]}")
        time.sleep(2)
    tasks = [t for r in loads for t in cluster.task_instances("ews_load", r.run_id)]
    tasks += [t for r in models for t in cluster.task_instances("ews_model", r.run_id)]
    return {
        "days": len(days), "ews_load_runs": len(loads), "ews_model_runs": len(models),
        "modelled_days": sorted(modelled), "unmodelled_days": sorted(wanted - modelled),
        "model_order": [_model_days(cluster, r.run_id) for r in models if r.state == "success"],
        "wall_s": round(time.perf_counter() - started, 1),
        "tasks": len(tasks), "tasks_per_worker": dict(Counter(t.hostname for t in tasks)),
        "max_concurrency": max_concurrency(tasks),
    }


def _backfills_completed(cluster: Any, dag_id: str) -> bool:
    """Whether every backfill of the DAG has completed (a day it skipped will never run)."""
    backfills = cluster.backfills(dag_id)
    return bool(backfills) and all(b.get("completed_at") for b in backfills)


def _model_days(cluster: Any, run_id: str) -> list[str]:
    """The business dates an ews_model run modelled (its first task's return value)."""
    value = cluster.xcom("ews_model", run_id, "business_dates")
    return list(value or [])

