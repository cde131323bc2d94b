"""The Celery configuration of ews' Airflow workers: Airflow's own, plus the libraries every task needs, imported
once per worker rather than once per task.

    AIRFLOW__CELERY__CELERY_CONFIG_OPTIONS=warning_models.celery_worker.CELERY_CONFIG

Airflow 3's Celery worker runs each task in a process forked from its pool process (the task supervisor's
`os.fork`), and Celery's prefork pool forks from the worker's main process. A module the main process imported
before its pool started is in every task's process already; anything else each task imports again. dbt (1.8 s),
Great Expectations (3.6 s), statsmodels (0.7 s) and matplotlib (0.4 s) cost a task more than many tasks' own work
on a 2-core worker (docs/benchmarks.md, Airflow). ``preload_task_libraries`` imports them when the worker starts
(Celery's ``worker_init``, in the main process, before the pool forks); the scheduler, which loads this
configuration too for its executor, imports nothing more. The imports start no thread and open no connection, so
forking after them is safe.

Then it freezes the garbage collector's view of everything the worker holds (``gc.freeze``): a forked task
inherits the worker's objects, and every full collection in the task walks those not frozen, and writes to their
pages, which copies them. Airflow's provider freezes its own preloads (``celery_import_modules``), but before
``worker_init``, so the libraries above (290,000 objects) would be collected in every task: with them unfrozen,
M's dbt tasks took 17.5 s on average instead of 11.2 s without the preload (docs/benchmarks.md); a test workload
in a forked process took 7-9 s unfrozen and 2.2 s frozen. Switching both off (``EWS_CELERY_PRELOAD=false``)
leaves the worker as Airflow starts it.
"""

from __future__ import annotations

import gc
import importlib
import logging
import os
import time
from typing import Any

from airflow.providers.celery.executors.default_celery import DEFAULT_CELERY_CONFIG
from celery.signals import worker_init

log = logging.getLogger(__name__)

CELERY_CONFIG: dict[str, Any] = DEFAULT_CELERY_CONFIG
# the value of AIRFLOW__CELERY__CELERY_CONFIG_OPTIONS that selects it
CONFIG_OPTION = f"{__name__}.CELERY_CONFIG"
PRELOADED_LIBRARIES = (
    "warning_models.privacy",  # first: importing the package switches the usage trackers off before dbt and GX load
    "dbt.cli.main",
    "dbt.adapters.postgres",
    # Cosmos's operators (0.4 s): every task imports them through Cosmos's cluster policy (its `airflow.policy`
    # entry point), and ews_model's DAG file through its task groups
    "cosmos.operators.local",
    "great_expectations",
    "statsmodels.api",
    "matplotlib.pyplot",  # the report's charts (0.4 s), with the Agg backend (preload_task_libraries)
    "warning_models.pipeline",
    "expectations",  # the gate's suites and custom expectations (0.1 s of every ingest task)
    "warning_models.indicators",
    "warning_models.transform",
    "warning_models.report.build",
)


def preload_enabled() -> bool:
    return os.environ.get("EWS_CELERY_PRELOAD", "true").strip().lower() not in {"0", "false", "no", "off"}


def preload_libraries(names: tuple[str, ...] = PRELOADED_LIBRARIES) -> dict[str, float]:
    """Import ``names`` in this process; the seconds each import took (0 for one already imported)."""
    took = {}
    for name in names:
        started = time.perf_counter()
        importlib.import_module(name)
        took[name] = round(time.perf_counter() - started, 3)
    return took


@worker_init.connect
def preload_task_libraries(**_: Any) -> None:
    if not preload_enabled():
        log.info("ews: task libraries not preloaded (EWS_CELERY_PRELOAD is off)")
        return
    os.environ.setdefault("MPLBACKEND", "Agg")  # a worker draws charts to files: pyplot probes no display
    took = preload_libraries()
    gc.freeze()  # after the imports, before the pool forks: the tasks' collections skip what the worker holds
    log.warning("ews: task libraries preloaded in %.1f s, %d objects frozen: %s",
                sum(took.values()), gc.get_freeze_count(), took)
