"""Wall time, rows per second and peak memory of each stage of a run, measured from the process that runs it.

The client's peak is exact: Linux's high-water mark of resident memory (VmHWM), reset at the start of each stage
(``/proc/self/clear_refs``), read at its end, for this process and any child it started. The warehouse's peak is
sampled: the summed proportional set size (PSS: shared buffers counted once) of the PostgreSQL backends connected
to the benchmark's database, every 0.2 s.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import psutil

MIB = 1024 * 1024


@dataclass
class StageMeasure:
    """One stage of one run."""

    stage: str
    business_date: str
    seconds: float
    rows: int | None
    client_peak_mib: float
    server_peak_mib: float
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def rows_per_s(self) -> float | None:
        return None if not self.rows or self.seconds <= 0 else self.rows / self.seconds

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "rows_per_s": self.rows_per_s}


def machine_busy_cpu_s() -> float:
    """CPU seconds the machine's cores have spent busy since boot (all processes; idle and I/O wait excluded)."""
    t = psutil.cpu_times()
    return sum(getattr(t, name, 0.0) for name in ("user", "nice", "system", "irq", "softirq", "steal"))


def process_tree_cpu_s(root: psutil.Process) -> float:
    """CPU seconds of a process and its live descendants, with the children each has waited for."""
    total = 0.0
    try:
        tree = [root, *root.children(recursive=True)]
    except psutil.Error:  # the root has exited: nothing of it left to count
        return 0.0
    for proc in tree:
        try:
            t = proc.cpu_times()
        except psutil.Error:
            continue
        total += t.user + t.system + t.children_user + t.children_system
    return total


def _high_water_mib(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _reset_high_water(pid: int) -> None:
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        pass  # not permitted: the peak is then the process's since it started


def client_peak_mib() -> float:
    """This process's and its children's peak resident memory since the last reset, MiB (children summed)."""
    me = psutil.Process()
    return _high_water_mib(me.pid) + sum(_high_water_mib(c.pid) for c in me.children(recursive=True))


def reset_client_peak() -> None:
    me = psutil.Process()
    for pid in [me.pid, *(c.pid for c in me.children(recursive=True))]:
        _reset_high_water(pid)


class ServerSampler:
    """Samples the summed PSS of the PostgreSQL backends of one database while it runs."""

    def __init__(self, database: str, interval_s: float = 0.2) -> None:
        self.database, self.interval_s = database, interval_s
        self.peak_mib = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _backends(self) -> list[psutil.Process]:
        found = []
        for proc in psutil.process_iter(["name", "cmdline"]):
            cmdline = " ".join(proc.info.get("cmdline") or [])
            if cmdline.startswith("postgres:") and f" {self.database} " in f" {cmdline} ":
                found.append(proc)
        return found

    def _run(self) -> None:
        while not self._stop.is_set():
            total = 0.0
            for proc in self._backends():
                try:
                    total += proc.memory_full_info().pss / MIB
                except (psutil.Error, AttributeError):
                    continue
            self.peak_mib = max(self.peak_mib, total)
            self._stop.wait(self.interval_s)

    def __enter__(self) -> "ServerSampler":
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


class CpuSampler:
    """Samples the machine's busy CPU seconds and some process trees' (by name) every ``interval_s`` while it runs;
    ``between`` reads back what each used over a span of wall-clock time (``time.time()`` seconds)."""

    def __init__(self, trees: dict[str, psutil.Process], interval_s: float = 0.5) -> None:
        self.trees, self.interval_s = trees, interval_s
        self.samples: list[tuple[float, dict[str, float]]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self) -> None:
        used = {name: process_tree_cpu_s(proc) for name, proc in self.trees.items()}
        self.samples.append((time.time(), {"machine": machine_busy_cpu_s(), **used}))

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval_s)

    def between(self, start: float, end: float) -> dict[str, float]:
        """CPU seconds of the machine and of each tree from the last sample at or before ``start`` to the first at or
        after ``end`` (so a span a little wider than asked, by up to one interval each side)."""
        before = [s for t, s in self.samples if t <= start] or [self.samples[0][1]]
        after = [s for t, s in self.samples if t >= end] or [self.samples[-1][1]]
        return {name: round(after[0][name] - before[-1][name], 1) for name in before[-1]}

    def __enter__(self) -> "CpuSampler":
        self.sample()
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()


class Meter:
    """A StageObserver (warning_models.pipeline) that keeps a StageMeasure per stage."""

    def __init__(self, database: str) -> None:
        self.database = database
        self.measures: list[StageMeasure] = []

    @contextmanager
    def __call__(self, name: str, business_date: dt.date, detail: dict[str, Any]) -> Iterator[None]:
        with self.measure(name, business_date) as record:
            yield
        record.rows = detail.get("rows")
        record.detail = {k: v for k, v in detail.items() if k != "rows"}

    @contextmanager
    def measure(self, name: str, business_date: dt.date | str, rows: int | None = None) -> Iterator[StageMeasure]:
        """Measure a stretch of work that is not a pipeline stage (a floor, an Airflow run)."""
        reset_client_peak()
        record = StageMeasure(name, str(business_date), 0.0, rows, 0.0, 0.0)
        started = time.perf_counter()
        with ServerSampler(self.database) as server:
            yield record
        record.seconds = time.perf_counter() - started
        record.client_peak_mib = client_peak_mib()
        record.server_peak_mib = server.peak_mib
        self.measures.append(record)
