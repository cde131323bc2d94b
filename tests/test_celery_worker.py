"""A real Celery worker of Airflow's own app, configured as docker/docker-compose.yaml configures it
(`AIRFLOW__CELERY__CELERY_CONFIG_OPTIONS=warning_models.celery_worker.CELERY_CONFIG`), on the machine's Redis: the
tasks its forked pool processes run find dbt, Great Expectations and statsmodels already imported and the
worker's objects frozen out of their garbage collections (warning_models/celery_worker.py), and neither with the
preload switched off."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from warning_models.celery_worker import CONFIG_OPTION, PRELOADED_LIBRARIES

REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
BROKER = f"redis://{REDIS_HOST}:{REDIS_PORT}/7"
HEAVY = ("dbt.cli.main", "great_expectations", "statsmodels.api")
PROBE_MODULE = '''
import os, sys
from airflow.providers.celery.executors.celery_executor import app

@app.task(name="ews_preload_probe")
def ews_preload_probe(names):
    import gc
    return {"loaded": [n for n in names if n in sys.modules], "pid": os.getpid(), "frozen": gc.get_freeze_count(),
            "collected": len(gc.get_objects())}
'''


def _redis_answers() -> bool:
    try:
        socket.create_connection((REDIS_HOST, REDIS_PORT), timeout=2).close()
        return True
    except OSError:
        return False


pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not _redis_answers(), reason=f"no Redis at {REDIS_HOST}:{REDIS_PORT} for the Celery broker"),
]


def _worker_env(home: Path, queue: str, preload: bool) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    return {
        **env,
        "PYTHONPATH": os.pathsep.join([str(home), str(Path(__file__).resolve().parents[1])]),
        "AIRFLOW_HOME": str(home),
        "AIRFLOW_CONFIG": str(home / "airflow.cfg"),
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__CELERY__BROKER_URL": BROKER,
        "AIRFLOW__CELERY__RESULT_BACKEND": BROKER,
        "AIRFLOW__CELERY__CELERY_CONFIG_OPTIONS": CONFIG_OPTION,
        "AIRFLOW__OPERATORS__DEFAULT_QUEUE": queue,
        "EWS_CELERY_PRELOAD": "true" if preload else "false",
    }


@pytest.fixture
def worker(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    """A `celery worker` of Airflow's app (prefork, one process) on a queue of its own; yields how to reach it."""
    preload: bool = request.param
    (tmp_path / "airflow.cfg").write_text("")
    (tmp_path / "ews_preload_probe.py").write_text(PROBE_MODULE)
    queue = f"ews-preload-{uuid.uuid4().hex[:8]}"
    env = _worker_env(tmp_path, queue, preload)
    log = tmp_path / "worker.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "--app", "airflow.providers.celery.executors.celery_executor.app",
             "worker", "--pool", "prefork", "--concurrency", "1", "--queues", queue, "--include", "ews_preload_probe",
             "--without-gossip", "--without-mingle", "--loglevel", "INFO"],
            env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        yield {"queue": queue, "log": log, "pid": proc.pid}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _probe(worker: dict[str, Any]) -> dict[str, Any]:
    from celery import Celery

    client = Celery("ews_preload_client", broker=BROKER, backend=BROKER)
    result = client.send_task("ews_preload_probe", args=[list(PRELOADED_LIBRARIES)], queue=worker["queue"])
    try:
        return dict(result.get(timeout=120))
    except Exception as error:  # the worker's log says why
        raise AssertionError(f"{error!r}; worker log:\n{worker['log'].read_text()[-3000:]}") from error


@pytest.mark.parametrize("worker", [True], indirect=True)
def test_a_workers_forked_tasks_find_the_task_libraries_imported(worker: dict[str, Any]) -> None:
    found = _probe(worker)
    assert found["pid"] != worker["pid"]  # the task ran in a pool process forked from the worker
    assert found["loaded"] == list(PRELOADED_LIBRARIES)
    # the worker's objects are out of the task's garbage collections: without the second freeze the preloaded
    # libraries' ~290,000 objects would be collected in every task
    assert found["frozen"] > 400_000 and found["collected"] < 50_000
    assert "task libraries preloaded" in worker["log"].read_text()


@pytest.mark.parametrize("worker", [False], indirect=True)
def test_with_the_preload_off_a_workers_tasks_import_them_themselves(worker: dict[str, Any]) -> None:
    found = _probe(worker)
    assert not set(HEAVY) & set(found["loaded"])
    assert "not preloaded" in worker["log"].read_text()
