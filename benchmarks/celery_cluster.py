"""A real local Airflow 3 deployment on the CeleryExecutor, for benchmarks that run the ews DAGs on several workers.

    with LocalCeleryCluster(ClusterConfig(airflow_home=tmp / "airflow", metadata_url=URL, extra_env=ews_env)) as c:
        c.unpause("ews_load")
        run_id = c.trigger("ews_load", conf={"business_date": "2025-03-01"})
        times = c.wait_for_run("ews_load", run_id, timeout_s=900)
        tasks = c.task_instances("ews_load", run_id)     # each with the Celery worker that ran it

    .venv/bin/python -m benchmarks.celery_cluster --self-check       # proves it: two workers, tasks in parallel

The components of docker/docker-compose.yaml run as local processes of `.venv/bin/airflow`, each in its own session
(process group), its stdout and stderr in `<airflow_home>/logs/<component>.log`: `api-server`, `scheduler`,
`dag-processor`, `triggerer` and `celery worker` once per worker (`--celery-hostname ews-worker-<n>`,
`--concurrency`). Redis (the broker) and PostgreSQL (metadata and Celery results) are the machine's own servers.

`__enter__` makes every start reproducible: the metadata database is dropped and created again, then
`airflow db migrate`; only the broker's Redis database (the number in `broker_url`) is flushed. It returns once the
api-server's `/api/v2/monitor/health` reports the metadata database, scheduler, triggerer and dag-processor
healthy, the expected DAGs are parsed with no import error at all, and every worker answers a Celery ping. A
component that exits, or a timeout, raises `ClusterError` with the tail of the relevant logs. `__exit__` stops
the workers, then scheduler, dag-processor and triggerer, the api-server last: SIGTERM to each main process (which
stops its own children), SIGKILL to its whole process group if anything of it is left after `stop_timeout_s`,
then SIGKILL to every process still carrying the cluster's marker variable (task processes run in process groups
of their own): none is left. Ctrl-C or SIGTERM while starting or running stops everything the same way.

Configuration only through `AIRFLOW__*` variables, as in the compose file (`AIRFLOW_CONFIG` points at an empty
file, so Airflow writes no airflow.cfg of its own); `env()` is that environment, also for `airflow` CLI calls.
The Fernet key, the JWT secret, the api-server's secret key and the admin's password are generated per cluster and
never printed. The REST API (v2) is used with a JWT from `POST /auth/token` as the SimpleAuthManager's `admin`,
as in production (no all-admins mode). Inherited `AIRFLOW*` and `EWS_*` variables are dropped: the ews settings
come only from `extra_env`, which is applied last and may override any setting below. Telemetry stays off
(`warning_models.privacy.TELEMETRY_OFF`).

Differences from the compose file, each forced by one machine running every component:
- `[core] hostname_callable` of each worker is `benchmarks.celery_cluster.worker_hostname` (repository root on
  PYTHONPATH), which returns the worker's Celery hostname: otherwise every task instance would record the same
  machine name, and `TaskTimes.hostname` could not tell the workers apart.
- workers, triggerer and scheduler run with `--skip-serve-logs`: the workers' log servers would all bind port 8793
  (the triggerer's 8794); every component shares `<airflow_home>/logs`, from which the api-server reads task logs.
- the scheduler's own health server (:8974) stays off; the REST health endpoint reports the scheduler instead.

Intervals tuned for benchmarks (Airflow 3.3 names, defaults in brackets):
- `[scheduler] scheduler_idle_sleep_time` 0.2 [1]: an idle scheduler looks for work five times a second, so a
  task that became ready is queued and sent to Celery with little delay.
- `[dag_processor] refresh_interval` 5 [300]: the DAG folder is listed every 5 s, so a DAG file added after the
  start is parsed within seconds rather than minutes.
- `[dag_processor] min_file_process_interval` 600 [30]: a parsed file is parsed again only after 10 minutes; the
  DAGs do not change during a benchmark, and re-parsing ews_model (Cosmos) every 30 s would take CPU from the
  tasks being measured on a 2-core machine.
- `[celery_broker_transport_options] visibility_timeout` 86400: Airflow's own default, set explicitly so that no
  component logs a warning about it.
Set as in the compose file: `[workers] min_heartbeat_interval` 1 [5]. A task's supervisor sometimes sees its task
process's sockets close before the process can be reaped, and then waits out that interval before it notices the
exit, so the Celery slot stays taken for up to that long after the task's end_date (seen in the self-check, and on
2026-12-08 as four market_instruments shards started one after another, each ~1 s after the last). The price is
a heartbeat a second per running task.

Warm-up (`ClusterConfig.warm_up`): at start, one run of a no-op DAG with a task per Celery slot, from a second DAG
bundle (`<airflow_home>/warm_up_dags`), so the measured runs find the api-server and the workers as a deployment
that has been running finds them. Its DAG id is `WARM_UP_DAG_ID`.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import uuid
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType, TracebackType
from typing import IO, Any
from urllib.parse import quote

import httpx
import psutil
import psycopg2
import redis
from celery import Celery
from cryptography.fernet import Fernet
from psycopg2 import sql
from sqlalchemy.engine import URL, make_url

from warning_models import celery_worker
from warning_models.privacy import TELEMETRY_OFF

REPO = Path(__file__).resolve().parents[1]
CLUSTER_ID_VAR = "EWS_BENCH_CLUSTER_ID"
WORKER_HOSTNAME_VAR = "EWS_BENCH_WORKER_HOSTNAME"
WORKER_HOSTNAME_CALLABLE = "benchmarks.celery_cluster.worker_hostname"
ADMIN_USER = "admin"
SIMPLE_AUTH_MANAGER = "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
BENCHMARK_TUNING: dict[str, str] = {
    "AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME": "0.2",
    "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
    "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "600",
    "AIRFLOW__CELERY_BROKER_TRANSPORT_OPTIONS__VISIBILITY_TIMEOUT": "86400",
}
_PROTECTED_DATABASES = {"postgres", "template0", "template1"}
_LOG_TAIL_CHARS = 4000
_POLL_S = 0.5


WARM_UP_BUNDLE = "ews-bench-warm-up"
WARM_UP_DAG_ID = "ews_bench_warm_up"


def warm_up_dag(slots: int) -> str:
    """The warm-up DAG's file: one short task per Celery slot, run once when the cluster starts."""
    return textwrap.dedent(
        f'''
        """Benchmark warm-up: one short task per Celery slot ({slots}), run once when the cluster starts."""

        import time

        import pendulum
        from airflow.sdk import dag, task


        @dag(schedule=None, start_date=pendulum.datetime(2025, 1, 1, tz="UTC"), catchup=False, tags=["benchmark"])
        def {WARM_UP_DAG_ID}() -> None:
            @task
            def wait(slot: int) -> int:
                time.sleep(1)
                return slot

            wait.expand(slot=list(range({slots})))


        {WARM_UP_DAG_ID}()
        '''
    ).lstrip()


def worker_hostname() -> str:
    """`[core] hostname_callable` of the cluster's workers: the Celery hostname of the worker this process serves.

    Task instances record it as their hostname; outside a worker it falls back to the machine's name.
    """
    return os.environ.get(WORKER_HOSTNAME_VAR) or socket.getfqdn()


class ClusterError(RuntimeError):
    """The cluster failed to start, a component died, or a DAG run failed or timed out."""


@dataclass(frozen=True)
class ClusterConfig:
    """Where and how a `LocalCeleryCluster` runs."""

    airflow_home: Path
    """A fresh (missing or empty) folder: the component and task logs, the auth manager's password file."""
    metadata_url: str
    """Airflow's metadata database (SQLAlchemy URL), dropped and created again at every start."""
    broker_url: str = "redis://127.0.0.1:6379/5"
    """Celery's broker; must name its Redis database number, which is flushed at every start."""
    workers: int = 2
    worker_concurrency: int = 2
    api_port: int = 28080
    """The api-server's port on 127.0.0.1 (not 8793/8794, the default ports of the workers' log servers)."""
    dags_folder: Path = REPO / "dags"
    expected_dags: tuple[str, ...] = ("ews_load", "ews_model")
    """The DAG ids `__enter__` waits for."""
    warm_up: bool = True
    """Run a no-op DAG once at start, a task per Celery slot (`WARM_UP_DAG_ID`, from a DAG bundle of its own): a
    deployment's api-server has long answered its first Execution API call (8.2 s cold, 2026-12-08) and each
    worker has run tasks before, so the first measured task does not pay for either."""
    extra_env: dict[str, str] = field(default_factory=dict)
    """The ews settings of every component (EWS_DATABASE_URL, EWS_HOME, EWS_PSEUDONYM_KEY, ...), applied last."""
    startup_timeout_s: float = 300.0
    stop_timeout_s: float = 20.0
    airflow_bin: Path = field(default_factory=lambda: Path(sys.executable).with_name("airflow"))


@dataclass(frozen=True)
class RunTimes:
    """A DAG run's state and timestamps; `wall_s` from its start to its end."""

    dag_id: str
    run_id: str
    state: str
    queued_at: dt.datetime | None
    start: dt.datetime | None
    end: dt.datetime | None
    wall_s: float | None


@dataclass(frozen=True)
class RunInfo(RunTimes):
    """A DAG run as `runs()` lists it: its times, what started it and with which conf."""

    run_type: str
    triggered_by: str | None
    triggering_user_name: str | None
    logical_date: dt.datetime | None
    run_after: dt.datetime | None
    conf: dict[str, Any]


@dataclass(frozen=True)
class TaskTimes:
    """A task instance's timestamps and the Celery worker (`hostname`) that ran it."""

    task_id: str
    map_index: int
    state: str | None
    try_number: int
    scheduled: dt.datetime | None
    queued: dt.datetime | None
    start: dt.datetime | None
    end: dt.datetime | None
    duration: float | None
    hostname: str | None

    @property
    def queue_latency_s(self) -> float | None:
        """Seconds from the task becoming queued to its start on a worker."""
        return _seconds(self.queued, self.start)

    @property
    def label(self) -> str:
        """`task_id`, with `[map_index]` for a mapped task."""
        return self.task_id if self.map_index < 0 else f"{self.task_id}[{self.map_index}]"


@dataclass
class _Component:
    """One running component: its process (the leader of its own process group) and its log file."""

    name: str
    process: subprocess.Popen[bytes]
    log_path: Path
    log_file: IO[bytes]


def _seconds(start: dt.datetime | None, end: dt.datetime | None) -> float | None:
    return (end - start).total_seconds() if start and end else None


def _timestamp(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


def _tail(path: Path, chars: int = _LOG_TAIL_CHARS) -> str:
    """The end of a log file, for error messages."""
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return f"({path} not written)"
    return text[-chars:]


def _check_redis_db_number(broker_url: str) -> None:
    """Refuse a Redis broker URL that names no database number: flushing it would flush database 0 by default."""
    path = broker_url.split("://", 1)[-1].split("?", 1)[0].partition("/")[2]
    if not path.isdigit():
        raise ValueError(f"broker_url must name its Redis database number (redis://host:port/N): {broker_url}")


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def max_concurrency(tasks: Iterable[TaskTimes]) -> int:
    """The largest number of the tasks that were running at the same moment."""
    edges = sorted(
        edge for t in tasks if t.start and t.end for edge in ((t.start, 1), (t.end, -1))
    )  # at equal times an end (-1) sorts before a start (+1): touching intervals do not overlap
    running = peak = 0
    for _, step in edges:
        running += step
        peak = max(peak, running)
    return peak


def cross_worker_overlaps(tasks: Iterable[TaskTimes]) -> list[tuple[TaskTimes, TaskTimes]]:
    """The pairs of tasks that ran at the same time on two different workers."""
    done = [(t, t.start, t.end) for t in tasks if t.start and t.end and t.hostname]
    return [
        (a, b)
        for i, (a, a_start, a_end) in enumerate(done)
        for b, b_start, b_end in done[i + 1:]
        if a.hostname != b.hostname and a_start < b_end and b_start < a_end
    ]


class LocalCeleryCluster:
    """Airflow's api-server, scheduler, dag-processor, triggerer and N Celery workers as local processes.

    A context manager: `__enter__` starts everything and waits until it is healthy, `__exit__` stops it all.
    """

    def __init__(self, config: ClusterConfig) -> None:
        if config.workers < 1 or config.worker_concurrency < 1:
            raise ValueError("workers and worker_concurrency must be at least 1")
        self.config = config
        self.cluster_id = uuid.uuid4().hex
        self.worker_names = tuple(f"ews-worker-{n}" for n in range(1, config.workers + 1))
        self.api_url = f"http://127.0.0.1:{config.api_port}"
        self.logs_dir = config.airflow_home / "logs"
        self.startup_s: float | None = None
        self.startup_phases: dict[str, float] = {}
        """Seconds of each start-up phase: metadata database, migrations, components healthy."""
        """Whether the components need the celery compatibility hook (module docstring)."""
        self._db_url: URL = make_url(config.metadata_url)
        _check_redis_db_number(config.broker_url)
        self._admin_password = secrets.token_urlsafe(24)
        self._secrets = {
            "AIRFLOW__CORE__FERNET_KEY": Fernet.generate_key().decode(),
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),
            "AIRFLOW__API__SECRET_KEY": secrets.token_hex(32),
        }
        self._components: list[_Component] = []
        self._http: httpx.Client | None = None
        self._token: str | None = None
        self._celery: Celery | None = None
        self._previous_sigterm: Callable[[int, FrameType | None], Any] | int | None = None

    # --- environment -------------------------------------------------------------------------------------------

    def env(self) -> dict[str, str]:
        """The environment of every component, also usable for `airflow` CLI calls against this cluster."""
        c = self.config
        home = c.airflow_home
        inherited = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "EWS_"))}
        pythonpath = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p)
        return {
            **inherited,
            "PYTHONPATH": pythonpath,
            CLUSTER_ID_VAR: self.cluster_id,
            "AIRFLOW_HOME": str(home),
            "AIRFLOW_CONFIG": str(home / "airflow.cfg"),
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": c.metadata_url,
            "AIRFLOW__CELERY__BROKER_URL": c.broker_url,
            "AIRFLOW__CELERY__RESULT_BACKEND": f"db+{c.metadata_url}",
            "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(c.worker_concurrency),
            # as in the compose file: dbt, GX and statsmodels imported once per worker, not once per task
            "AIRFLOW__CELERY__CELERY_CONFIG_OPTIONS": celery_worker.CONFIG_OPTION,
            **self._secrets,
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(c.api_port),
            "AIRFLOW__API__BASE_URL": f"{self.api_url}/",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.api_url}/execution/",
            "AIRFLOW__CORE__DAGS_FOLDER": str(c.dags_folder),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
            "AIRFLOW__CORE__AUTH_MANAGER": SIMPLE_AUTH_MANAGER,
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN_USER}:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(self._passwords_file),
            # as in the compose file: a task's Celery slot is free within a second of its end (module docstring)
            "AIRFLOW__WORKERS__MIN_HEARTBEAT_INTERVAL": "1",
            **({"AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST": self._bundles()} if c.warm_up else {}),
            **BENCHMARK_TUNING,
            **TELEMETRY_OFF,
            **c.extra_env,
        }

    def _bundles(self) -> str:
        """The DAG bundles: the DAGs folder, as by default, and the folder of the warm-up DAG."""
        local = "airflow.dag_processing.bundles.local.LocalDagBundle"
        return json.dumps([
            {"name": "dags-folder", "classpath": local, "kwargs": {}},
            {"name": WARM_UP_BUNDLE, "classpath": local, "kwargs": {"path": str(self._warm_up_folder)}},
        ])

    @property
    def _warm_up_folder(self) -> Path:
        return self.config.airflow_home / "warm_up_dags"

    @property
    def _passwords_file(self) -> Path:
        return self.config.airflow_home / "simple_auth_manager_passwords.json"

    # --- lifecycle ---------------------------------------------------------------------------------------------

    def __enter__(self) -> LocalCeleryCluster:
        if threading.current_thread() is threading.main_thread():
            self._previous_sigterm = signal.signal(signal.SIGTERM, self._on_sigterm)
        try:
            self._start()
        except BaseException:
            self._stop()
            raise
        return self

    def _refuse_stale_workers(self) -> None:
        """Celery workers of an earlier, killed cluster still listening on the broker would clash by hostname."""
        replies = Celery(broker=self.config.broker_url).control.ping(timeout=1.0)
        if replies:
            names = sorted(name for reply in replies for name in reply)
            raise ClusterError(f"Celery workers {', '.join(names)} still answer on {self.config.broker_url}: "
                               "a killed earlier run left them; stop them (pkill -f 'celery worker') first")

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop()

    @staticmethod
    def _on_sigterm(signum: int, frame: FrameType | None) -> None:
        """SIGTERM unwinds like Ctrl-C, through `__exit__`, so the components are stopped."""
        raise SystemExit(128 + signum)

    def _start(self) -> None:
        began = mark = time.monotonic()

        def phase(name: str) -> None:
            nonlocal mark
            now = time.monotonic()
            self.startup_phases[name] = now - mark
            mark = now

        self._prepare_home()
        if not _port_free(self.config.api_port):
            raise ClusterError(f"port {self.config.api_port} on 127.0.0.1 is in use: choose another api_port")
        self._recreate_metadata_db()
        self._refuse_stale_workers()
        redis.Redis.from_url(self.config.broker_url).flushdb()
        phase("fresh metadata db and broker")
        self._migrate()
        phase("airflow db migrate")
        self._launch_components()
        self._http = httpx.Client(base_url=self.api_url, timeout=30.0)
        self._celery = Celery(broker=self.config.broker_url)
        self._wait_healthy(began + self.config.startup_timeout_s)
        phase("components healthy")
        if self.config.warm_up:
            self.unpause(WARM_UP_DAG_ID)
            self.wait_for_run(WARM_UP_DAG_ID, self.trigger(WARM_UP_DAG_ID), timeout_s=self.config.startup_timeout_s)
            phase("warm-up run")
        self.startup_s = time.monotonic() - began

    def _prepare_home(self) -> None:
        home = self.config.airflow_home
        if home.exists() and any(home.iterdir()):
            raise ClusterError(f"airflow_home must be a fresh folder, {home} is not empty")
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        config_file = home / "airflow.cfg"
        config_file.write_text("# empty on purpose: the configuration is in AIRFLOW__* variables\n")
        self._passwords_file.touch(mode=0o600)
        self._passwords_file.write_text(json.dumps({ADMIN_USER: self._admin_password}) + "\n")
        if self.config.warm_up:
            self._warm_up_folder.mkdir()
            slots = self.config.workers * self.config.worker_concurrency
            (self._warm_up_folder / f"{WARM_UP_DAG_ID}.py").write_text(warm_up_dag(slots))

    def _recreate_metadata_db(self) -> None:
        name = self._db_url.database
        warehouse = self.config.extra_env.get("EWS_DATABASE_URL")
        if not name or name in _PROTECTED_DATABASES or (warehouse and make_url(warehouse).database == name):
            raise ClusterError(f"refusing to drop database {name!r} as Airflow's metadata database")
        admin = self._db_url.set(drivername="postgresql", database="postgres")
        conn = psycopg2.connect(admin.render_as_string(hide_password=False))
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
                cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        finally:
            conn.close()

    def _migrate(self) -> None:
        log_path = self.logs_dir / "db-migrate.log"
        with log_path.open("wb") as log:
            result = subprocess.run(
                [str(self.config.airflow_bin), "db", "migrate"], env=self.env(), stdin=subprocess.DEVNULL,
                stdout=log, stderr=subprocess.STDOUT, timeout=self.config.startup_timeout_s, check=False,
            )
        if result.returncode != 0:
            raise ClusterError(f"airflow db migrate failed ({result.returncode}):\n{_tail(log_path)}")

    def _launch_components(self) -> None:
        port = str(self.config.api_port)
        self._spawn("api-server", ["api-server", "--host", "127.0.0.1", "--port", port])
        self._spawn("scheduler", ["scheduler", "--skip-serve-logs"])
        self._spawn("dag-processor", ["dag-processor"])
        self._spawn("triggerer", ["triggerer", "--skip-serve-logs"])
        for name in self.worker_names:
            self._spawn(
                name,
                ["celery", "worker", "--celery-hostname", name, "--concurrency", str(self.config.worker_concurrency),
                 "--skip-serve-logs"],
                {"AIRFLOW__CORE__HOSTNAME_CALLABLE": WORKER_HOSTNAME_CALLABLE, WORKER_HOSTNAME_VAR: name},
            )

    def component_processes(self) -> dict[str, psutil.Process]:
        """Each running component's leading process, by name (api-server, scheduler, ..., ews-worker-1, ...)."""
        return {c.name: psutil.Process(c.process.pid) for c in self._components if c.process.poll() is None}

    def _spawn(self, name: str, args: list[str], extra: Mapping[str, str] | None = None) -> None:
        log_path = self.logs_dir / f"{name}.log"
        log_file = log_path.open("ab")
        try:
            process = subprocess.Popen(
                [str(self.config.airflow_bin), *args], env={**self.env(), **(extra or {})},
                cwd=self.config.airflow_home, stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        except BaseException:
            log_file.close()
            raise
        self._components.append(_Component(name, process, log_path, log_file))

    def _stop(self) -> None:
        """Stop every component and its children; ignores Ctrl-C meanwhile so no process is left behind."""
        in_main = threading.current_thread() is threading.main_thread()
        previous_sigint = signal.getsignal(signal.SIGINT)
        if in_main:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            if self._http is not None:
                self._http.close()  # first: an open keep-alive connection would hold up the api-server's shutdown
            if self._celery is not None:
                self._celery.close()
            self._terminate_components()
            self._sweep_marked_processes()
        finally:
            self._http = self._celery = self._token = None
            if in_main:
                signal.signal(signal.SIGINT, signal.SIG_DFL if previous_sigint is None else previous_sigint)
            if in_main and self._previous_sigterm is not None:
                signal.signal(signal.SIGTERM, self._previous_sigterm)
                self._previous_sigterm = None

    def _terminate_components(self) -> None:
        """Stop the workers first, then scheduler, dag-processor and triggerer, the api-server last.

        In this order a task still running can report to the api-server while its worker shuts down warmly.
        """
        workers = [c for c in self._components if c.name in self.worker_names]
        api = [c for c in self._components if c.name == "api-server"]
        others = [c for c in self._components if c not in workers and c not in api]
        for stage in (workers, others, api):
            self._terminate_stage(stage)
        self._components.clear()

    def _terminate_stage(self, components: list[_Component]) -> None:
        """SIGTERM the components, SIGKILL their process groups if anything of them is left after `stop_timeout_s`.

        SIGTERM goes to each component's main process, which stops its own children (Celery's pool, the triggerer's
        runner, uvicorn's workers): signalled directly, some children wait out a grace period of their own. The
        group leaders are reaped only at the end: until then no group id can be reused by another process.
        """
        groups = [component.process.pid for component in components]
        for component in components:
            if component.process.poll() is None:
                component.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self.config.stop_timeout_s
        while (alive := _live_groups(groups)) and time.monotonic() < deadline:
            time.sleep(0.2)
        for pgid in alive:
            _signal_group(pgid, signal.SIGKILL)
        for component in components:
            component.process.wait()
            component.log_file.close()

    def stray_processes(self) -> list[psutil.Process]:
        """The live processes that carry this cluster's marker variable (none once the cluster is stopped)."""
        own = {os.getpid(), *(p.pid for p in psutil.Process().parents())}
        found = []
        for process in psutil.process_iter():
            try:
                if process.pid not in own and process.environ().get(CLUSTER_ID_VAR) == self.cluster_id:
                    found.append(process)
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                continue
        return found

    def _sweep_marked_processes(self) -> None:
        """SIGKILL whatever of the cluster outlived its process groups (task processes have groups of their own)."""
        deadline = time.monotonic() + self.config.stop_timeout_s
        while (strays := self.stray_processes()) and time.monotonic() < deadline:
            for process in strays:
                try:
                    process.kill()
                except psutil.NoSuchProcess:
                    continue
            psutil.wait_procs(strays, timeout=2)
        if strays:
            raise ClusterError(f"processes survived SIGKILL: {[p.pid for p in strays]}")

    # --- health ------------------------------------------------------------------------------------------------

    def _check_alive(self) -> None:
        """Raise with the log's tail if a component has exited."""
        for component in self._components:
            code = component.process.poll()
            if code is not None:
                raise ClusterError(
                    f"{component.name} exited with {code}; {component.log_path}:\n{_tail(component.log_path)}"
                )

    def _wait_healthy(self, deadline: float) -> None:
        while True:
            self._check_alive()
            pending = self._pending_conditions()
            if not pending:
                return
            if time.monotonic() > deadline:
                logs = "\n".join(
                    f"--- {name}: {self.logs_dir / f'{name}.log'}\n{_tail(self.logs_dir / f'{name}.log')}"
                    for name in sorted(set(pending.values()))
                )
                raise ClusterError(
                    f"cluster not healthy after {self.config.startup_timeout_s:.0f} s; waiting for: "
                    f"{', '.join(pending)}\n{logs}"
                )
            time.sleep(_POLL_S)

    def _pending_conditions(self) -> dict[str, str]:
        """What is not ready yet, each with the component whose log explains it; raises on an import error."""
        try:
            health = self._get("/api/v2/monitor/health", auth=False)
        except httpx.TransportError:
            return {"api-server answering": "api-server"}
        pending = {
            f"{part} healthy": "api-server" if part == "metadatabase" else part.replace("_", "-")
            for part in ("metadatabase", "scheduler", "triggerer", "dag_processor")
            if (health.get(part) or {}).get("status") != "healthy"
        }
        errors = self.import_errors()
        if errors:
            details = "\n".join(f"{e.get('filename')}:\n{e.get('stack_trace')}" for e in errors)
            raise ClusterError(f"import errors in {self.config.dags_folder}:\n{details}")
        for dag_id in (*self.config.expected_dags, *((WARM_UP_DAG_ID,) if self.config.warm_up else ())):
            if self._get(f"/api/v2/dags/{quote(dag_id, safe='')}", missing_ok=True) is None:
                pending[f"DAG {dag_id} parsed"] = "dag-processor"
        assert self._celery is not None
        answered = {name for reply in self._celery.control.ping(timeout=0.5) for name in reply}
        for name in self.worker_names:
            if f"celery@{name}" not in answered:
                pending[f"worker {name} answering ping"] = name
        return pending

    # --- REST API ----------------------------------------------------------------------------------------------

    def _login(self, http: httpx.Client) -> str:
        """A JWT for the admin, from the SimpleAuthManager's token endpoint."""
        response = http.post("/auth/token", json={"username": ADMIN_USER, "password": self._admin_password})
        _raise_for_status(response)
        token: str = response.json()["access_token"]
        return token

    def _request(self, method: str, path: str, *, auth: bool = True, **kwargs: Any) -> httpx.Response:
        """One API call; with `auth`, with the admin's JWT, logging in again once if it was refused (expired)."""
        http = self._http
        if http is None:
            raise ClusterError("the cluster is not running (use it as a context manager)")
        if not auth:
            return http.request(method, path, **kwargs)
        if self._token is None:
            self._token = self._login(http)
        response = http.request(method, path, headers={"Authorization": f"Bearer {self._token}"}, **kwargs)
        if response.status_code == 401:
            self._token = self._login(http)
            response = http.request(method, path, headers={"Authorization": f"Bearer {self._token}"}, **kwargs)
        return response

    def _get(self, path: str, *, auth: bool = True, missing_ok: bool = False, **params: Any) -> Any:
        response = self._request("GET", path, auth=auth, params=params)
        if missing_ok and response.status_code == 404:
            return None
        _raise_for_status(response)
        return response.json()

    def _collect(self, path: str, key: str) -> list[dict[str, Any]]:
        """Every item of a paginated collection."""
        items: list[dict[str, Any]] = []
        limit = 100
        while True:
            page = self._get(path, limit=limit, offset=len(items))[key]
            items.extend(page)
            if len(page) < limit:
                return items

    # --- public API --------------------------------------------------------------------------------------------

    def dag_ids(self) -> list[str]:
        """The ids of the DAGs the dag-processor has parsed."""
        return sorted(item["dag_id"] for item in self._collect("/api/v2/dags", "dags"))

    def import_errors(self) -> list[dict[str, Any]]:
        """The DAG files that failed to import (filename, stack_trace, ...)."""
        return self._collect("/api/v2/importErrors", "import_errors")

    def unpause(self, dag_id: str) -> None:
        """Unpause a DAG (the cluster creates them paused, as production does)."""
        _raise_for_status(self._request("PATCH", f"/api/v2/dags/{quote(dag_id, safe='')}", json={"is_paused": False}))

    def skip_due_cron_run(self, dag_id: str) -> str | None:
        """Before a paused cron DAG without catchup is unpaused: the run the scheduler would start at once (for the
        cron's latest tick, a business date a benchmark bank has no files for) is created and marked failed, so the
        scheduler finds it there, skips that tick and waits for the next one. Its run id; None when nothing is due.

        The run takes the tick's data interval and run-after: the scheduler computes its next run from the run it
        found, and a manual run's own interval (the day before the tick's) gave it the same tick again, so it tried
        to create that run on every loop of the measured day (176 times in 49 s)."""
        dag = self._get(f"/api/v2/dags/{quote(dag_id, safe='')}")
        logical_date = dag.get("next_dagrun_logical_date")
        if logical_date is None:
            return None
        runs = f"/api/v2/dags/{quote(dag_id, safe='')}/dagRuns"
        body = {"dag_run_id": f"skipped_cron__{logical_date}", "logical_date": logical_date, "conf": {},
                "data_interval_start": dag["next_dagrun_data_interval_start"],
                "data_interval_end": dag["next_dagrun_data_interval_end"], "run_after": dag["next_dagrun_run_after"],
                "note": "the cron's latest tick, skipped: only the triggered days run"}
        response = self._request("POST", runs, json=body)
        _raise_for_status(response)
        run_id: str = response.json()["dag_run_id"]
        _raise_for_status(self._request("PATCH", f"{runs}/{quote(run_id, safe='')}", json={"state": "failed"}))
        return run_id

    def backfills(self, dag_id: str) -> list[dict[str, Any]]:
        """The DAG's backfills (`airflow backfill create`), as the REST API lists them."""
        return list(self._get("/api/v2/backfills", dag_id=dag_id).get("backfills", []))

    def trigger(
        self, dag_id: str, conf: dict[str, Any] | None = None, logical_date: dt.datetime | None = None
    ) -> str:
        """Trigger a manual run (with `conf` and `logical_date`, which must be timezone-aware); its run id."""
        if logical_date is not None and logical_date.tzinfo is None:
            raise ValueError("logical_date must be timezone-aware")
        body = {"logical_date": logical_date.isoformat() if logical_date else None, "conf": conf or {}}
        response = self._request("POST", f"/api/v2/dags/{quote(dag_id, safe='')}/dagRuns", json=body)
        _raise_for_status(response)
        run_id: str = response.json()["dag_run_id"]
        return run_id

    def runs(self, dag_id: str) -> list[RunInfo]:
        """The DAG's runs, oldest first: state, times, run type and what triggered them."""
        items = self._collect(f"/api/v2/dags/{quote(dag_id, safe='')}/dagRuns", "dag_runs")
        runs = [_run_info(item) for item in items]
        return sorted(runs, key=lambda r: r.run_after or dt.datetime.min.replace(tzinfo=dt.UTC))

    def xcom(self, dag_id: str, run_id: str, task_id: str, key: str = "return_value", map_index: int = -1) -> Any:
        """A task's XCom value (its return value by default); None when it pushed none."""
        path = (
            f"/api/v2/dags/{quote(dag_id, safe='')}/dagRuns/{quote(run_id, safe='')}/taskInstances/"
            f"{quote(task_id, safe='')}/xcomEntries/{quote(key, safe='')}"
        )
        entry = self._get(path, missing_ok=True, map_index=map_index, deserialize=True)
        return None if entry is None else entry.get("value")

    def task_instances(self, dag_id: str, run_id: str) -> list[TaskTimes]:
        """The run's task instances (one per map index), with their times and the worker that ran each."""
        path = f"/api/v2/dags/{quote(dag_id, safe='')}/dagRuns/{quote(run_id, safe='')}/taskInstances"
        tasks = [_task_times(item) for item in self._collect(path, "task_instances")]
        return sorted(tasks, key=lambda t: (t.task_id, t.map_index))

    def wait_for_run(self, dag_id: str, run_id: str, timeout_s: float) -> RunTimes:
        """Poll until the run succeeded; raise `ClusterError` naming the failed tasks, or on timeout."""
        path = f"/api/v2/dags/{quote(dag_id, safe='')}/dagRuns/{quote(run_id, safe='')}"
        deadline = time.monotonic() + timeout_s
        while True:
            self._check_alive()
            run = _run_info(self._get(path))
            if run.state == "success":
                return run
            if run.state == "failed":
                tasks = self.task_instances(dag_id, run_id)
                failed = [t.label for t in tasks if t.state == "failed"]
                upstream = [t.label for t in tasks if t.state == "upstream_failed"]
                raise ClusterError(
                    f"{dag_id} run {run_id} failed; failed tasks: {', '.join(failed) or 'none (run-level failure)'}"
                    f"{'; upstream_failed: ' + ', '.join(upstream) if upstream else ''}; "
                    f"task logs under {self.logs_dir / f'dag_id={dag_id}' / f'run_id={run_id}'}"
                )
            if time.monotonic() > deadline:
                paused = self._get(f"/api/v2/dags/{quote(dag_id, safe='')}")["is_paused"]
                unfinished = [f"{t.label}={t.state}" for t in self.task_instances(dag_id, run_id)
                              if t.state not in ("success", "skipped")]
                raise ClusterError(
                    f"{dag_id} run {run_id} still {run.state} after {timeout_s:g} s"
                    f"{' (the DAG is paused)' if paused else ''}; unfinished tasks: {', '.join(unfinished) or 'none'}"
                )
            time.sleep(_POLL_S)


def _live_groups(pgids: Collection[int]) -> set[int]:
    """Those of the process groups that still have a process that has not exited (zombies do not count)."""
    live = set()
    for process in psutil.process_iter():
        try:
            pgid = os.getpgid(process.pid)
            if pgid in pgids and process.status() != psutil.STATUS_ZOMBIE:
                live.add(pgid)
        except (ProcessLookupError, psutil.Error):
            continue
    return live


def _signal_group(pgid: int, signum: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


def _raise_for_status(response: httpx.Response) -> None:
    if response.is_error:
        raise ClusterError(f"{response.request.method} {response.request.url.path}: {response.status_code} "
                           f"{response.text[:2000]}")


def _run_info(item: Mapping[str, Any]) -> RunInfo:
    start, end = _timestamp(item.get("start_date")), _timestamp(item.get("end_date"))
    return RunInfo(
        dag_id=item["dag_id"], run_id=item["dag_run_id"], state=item["state"],
        queued_at=_timestamp(item.get("queued_at")), start=start, end=end, wall_s=_seconds(start, end),
        run_type=item["run_type"], triggered_by=item.get("triggered_by"),
        triggering_user_name=item.get("triggering_user_name"), logical_date=_timestamp(item.get("logical_date")),
        run_after=_timestamp(item.get("run_after")), conf=item.get("conf") or {},
    )


def _task_times(item: Mapping[str, Any]) -> TaskTimes:
    return TaskTimes(
        task_id=item["task_id"], map_index=item["map_index"], state=item.get("state"),
        try_number=item["try_number"], scheduled=_timestamp(item.get("scheduled_when")),
        queued=_timestamp(item.get("queued_when")), start=_timestamp(item.get("start_date")),
        end=_timestamp(item.get("end_date")), duration=item.get("duration"), hostname=item.get("hostname"),
    )


# --- self-check ------------------------------------------------------------------------------------------------

SELF_CHECK_DAG_ID = "ews_bench_fanout"
SELF_CHECK_DAG = textwrap.dedent(
    f'''
    """Benchmark self-check: six independent 3-second tasks and a task mapped over four items."""

    import os
    import socket
    import time

    import pendulum
    from airflow.sdk import dag, task


    def _sleep(label: str) -> str:
        time.sleep(3)
        worker = os.environ.get("{WORKER_HOSTNAME_VAR}")
        print(f"{{label}}: socket.gethostname()={{socket.gethostname()}} celery worker={{worker}}")
        return worker or socket.gethostname()


    @dag(schedule=None, start_date=pendulum.datetime(2025, 1, 1, tz="UTC"), catchup=False, tags=["benchmark"])
    def {SELF_CHECK_DAG_ID}() -> None:
        @task
        def sleeper(i: int) -> str:
            return _sleep(f"sleeper {{i}}")

        @task
        def mapped(item: int) -> str:
            return _sleep(f"mapped {{item}}")

        for i in range(6):
            sleeper.override(task_id=f"sleep_{{i}}")(i)
        mapped.expand(item=[1, 2, 3, 4])


    {SELF_CHECK_DAG_ID}()
    '''
).lstrip()


def _slot_latency_s(task: TaskTimes, tasks: list[TaskTimes]) -> float | None:
    """Seconds from the moment the task was queued and its worker had just freed a slot, to its start.

    `queue_latency_s` minus the time spent waiting for a free slot: the dispatch cost alone.
    """
    if task.queued is None or task.start is None:
        return None
    freed = [t.end for t in tasks if t.hostname == task.hostname and t.end and t.end <= task.start]
    return (task.start - max([task.queued, *freed])).total_seconds()


def _summary(values: list[float]) -> str:
    values = sorted(values)
    return f"min {values[0]:.2f} s, median {values[len(values) // 2]:.2f} s, max {values[-1]:.2f} s"


def _print_tasks(tasks: list[TaskTimes], origin: dt.datetime) -> None:
    print(f"{'task':<11} {'worker':<13} {'queued->start':>13} {'slot->start':>11} {'start':>6} {'end':>6} state")
    for t in sorted(tasks, key=lambda t: t.start or origin):
        print(f"{t.label:<11} {t.hostname or '-':<13} {t.queue_latency_s or 0:>12.2f}s "
              f"{_slot_latency_s(t, tasks) or 0:>10.2f}s {_seconds(origin, t.start) or 0:>5.2f}s "
              f"{_seconds(origin, t.end) or 0:>5.2f}s {t.state}")


def self_check(metadata_url: str, api_port: int) -> int:
    """Run the fan-out DAG on two workers, then parse the real ews DAGs; 0 if all checks passed."""
    with tempfile.TemporaryDirectory(prefix="ews-celery-") as tmp:
        root = Path(tmp)
        dags = root / "dags"
        dags.mkdir()
        (dags / f"{SELF_CHECK_DAG_ID}.py").write_text(SELF_CHECK_DAG)
        config = ClusterConfig(
            airflow_home=root / "fanout", metadata_url=metadata_url, api_port=api_port, dags_folder=dags,
            expected_dags=(SELF_CHECK_DAG_ID,), extra_env={"EWS_HOME": str(root / "ews")},
        )
        print(f"1/2 fan-out DAG on {config.workers} workers x concurrency {config.worker_concurrency}")
        cluster = LocalCeleryCluster(config)
        with cluster:
            print(f"cluster healthy after {cluster.startup_s:.1f} s: "
                  + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in cluster.startup_phases.items()))
            cluster.unpause(SELF_CHECK_DAG_ID)
            run_id = cluster.trigger(SELF_CHECK_DAG_ID)
            times = cluster.wait_for_run(SELF_CHECK_DAG_ID, run_id, timeout_s=300)
            tasks = cluster.task_instances(SELF_CHECK_DAG_ID, run_id)
            run = cluster.runs(SELF_CHECK_DAG_ID)[-1]
        strays = cluster.stray_processes()
        assert times.start is not None
        print(f"run {run_id}: {times.state}, wall {times.wall_s:.2f} s, queued->start "
              f"{_seconds(times.queued_at, times.start) or 0:.2f} s; run_type={run.run_type} "
              f"triggered_by={run.triggered_by} user={run.triggering_user_name}")
        _print_tasks(tasks, times.start)
        hosts = sorted({t.hostname for t in tasks if t.hostname})
        pairs = cross_worker_overlaps(tasks)
        print(f"hostnames: {hosts}")
        print(f"queued->start: {_summary([t.queue_latency_s for t in tasks if t.queue_latency_s is not None])}")
        slot = [latency for t in tasks if (latency := _slot_latency_s(t, tasks)) is not None]
        print(f"free slot->start: {_summary(slot)}")
        print(f"peak concurrency {max_concurrency(tasks)} (slots {config.workers * config.worker_concurrency}); "
              f"{len(pairs)} pairs of tasks overlapped on different workers, e.g. "
              f"{', '.join(f'{a.label}@{a.hostname} & {b.label}@{b.hostname}' for a, b in pairs[:2])}")
        print(f"stray processes after stop: {len(strays)}")
        checks = {
            "all 10 task instances succeeded": len(tasks) == 10 and all(t.state == "success" for t in tasks),
            "tasks ran on both workers": set(hosts) == set(cluster.worker_names),
            "tasks overlapped across workers": bool(pairs),
            "no stray process": not strays,
        }

        print("2/2 the real ews DAGs parsed under the cluster (nothing triggered)")
        config = ClusterConfig(
            airflow_home=root / "ews", metadata_url=metadata_url, api_port=api_port,
            expected_dags=("ews_load",), extra_env={"EWS_HOME": str(root / "ews-home")},
        )
        cluster = LocalCeleryCluster(config)
        with cluster:
            dag_ids = cluster.dag_ids()
            errors = cluster.import_errors()
            print(f"cluster healthy after {cluster.startup_s:.1f} s ("
                  + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in cluster.startup_phases.items())
                  + f"); DAGs of {config.dags_folder}: {dag_ids}; import errors: {len(errors)}")
        strays = cluster.stray_processes()
        print(f"stray processes after stop: {len(strays)}")
        checks |= {
            "ews_load parsed without import errors": "ews_load" in dag_ids and not errors,
            "no stray process (ews)": not strays,
        }
    for name, passed in checks.items():
        print(f"{'PASS' if passed else 'FAIL'}  {name}")
    return 0 if all(checks.values()) else 1


def main() -> int:
    parser = argparse.ArgumentParser(description="A local Airflow 3 cluster on the CeleryExecutor, for benchmarks.")
    parser.add_argument("--self-check", action="store_true", help="start a cluster and prove it works")
    parser.add_argument(
        "--metadata-url", default="postgresql+psycopg2://postgres@127.0.0.1:5432/ews_bench_airflow",
        help="Airflow's metadata database (dropped and created again)",
    )
    parser.add_argument("--api-port", type=int, default=ClusterConfig.api_port)
    args = parser.parse_args()
    if not args.self_check:
        parser.print_help()
        return 2
    return self_check(args.metadata_url, args.api_port)


if __name__ == "__main__":
    sys.exit(main())
