"""Where an Airflow + Cosmos run spends its time: each dbt task's log cut into phases, summed over a run.

    .venv/bin/python -m benchmarks.cosmos_profile /tmp/ews-bench/S/airflow_home_local [--dag ews_model]

A Cosmos task in ``local`` mode is a fresh task process that parses the DAG file, clones the dbt project, starts
dbt, has dbt parse the project (partially, from Cosmos's cache), builds one model and its tests, writes dbt's
artefacts and emits the model's assets. The phases are read off the timestamps of the lines each step logs (the
task's JSON log), so a profile needs no profiler attached and costs the run nothing:

| phase | from | to |
|---|---|---|
| task_start | the task's first log line | "Worker startup parse complete" (the DAG file parsed in the task) |
| cosmos_setup | there | "Trying to run dbtRunner" (project cloned, profile rendered, dbt imported) |
| dbt_startup | there | "Registered adapter" |
| dbt_parse | there | "Found N models" (partial parse; a full one when the cache is empty) |
| dbt_work | there | "Finished running" (the SQL of the model and its tests) |
| dbt_artefacts | there | "Done. PASS=" (run results, manifest) |
| cosmos_teardown | there | the task's last log line (assets, post-execute) |
"""

from __future__ import annotations

import argparse
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

PHASES = ("task_start", "cosmos_setup", "dbt_startup", "dbt_parse", "dbt_work", "dbt_artefacts", "cosmos_teardown")
# the line that ends each phase but the last (which ends at the log's last line)
MARKS = (
    re.compile(r"Worker startup parse complete"),
    re.compile(r"Trying to run dbtRunner"),
    re.compile(r"Registered adapter"),
    re.compile(r"Found \d+ models?"),
    re.compile(r"Finished running"),
    re.compile(r"Done\. PASS="),
)
FULL_PARSE = re.compile(r"Unable to do partial parsing")
ATTEMPT = re.compile(r"attempt=\d+\.log")


@dataclass
class TaskPhases:
    task: str
    seconds: dict[str, float]
    full_parse: bool

    @property
    def total_s(self) -> float:
        return sum(self.seconds.values())


@dataclass
class RunProfile:
    tasks: list[TaskPhases] = field(default_factory=list)
    other_tasks: int = 0  # tasks that ran no dbt (Python tasks; in watcher mode, the models' sensors)
    other_task_s: float = 0.0

    def summed_s(self) -> dict[str, float]:
        return {p: round(sum(t.seconds.get(p, 0.0) for t in self.tasks), 1) for p in PHASES}

    def as_dict(self) -> dict[str, object]:
        summed = self.summed_s()
        total = sum(summed.values())
        return {
            "dbt_tasks": len(self.tasks),
            "full_parses": sum(t.full_parse for t in self.tasks),
            "task_s": round(total, 1),
            "phase_s": summed,
            "phase_pct": {p: round(100 * s / total, 1) if total else None for p, s in summed.items()},
            "mean_task_s": round(total / len(self.tasks), 2) if self.tasks else None,
            "other_tasks": self.other_tasks,
            "other_task_s": round(self.other_task_s, 1),
        }


def _events(path: Path) -> list[tuple[datetime, str]]:
    out = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict) and record.get("timestamp"):
            out.append((datetime.fromisoformat(record["timestamp"].replace("Z", "+00:00")), str(record.get("event"))))
    return out


def task_phases(path: Path) -> TaskPhases | None:
    """The phases of one task's log; None when it is not a dbt run that finished (a sensor, a failed task)."""
    events = _events(path)
    if not events:
        return None
    stamps = [events[0][0]]
    for mark in MARKS:
        hit = next((t for t, e in events if t >= stamps[-1] and mark.search(e)), None)
        if hit is None:
            return None
        stamps.append(hit)
    stamps.append(events[-1][0])
    seconds = {p: (b - a).total_seconds() for p, a, b in zip(PHASES, stamps, stamps[1:])}
    return TaskPhases(path.parent.name.removeprefix("task_id="), seconds, any(FULL_PARSE.search(e) for _, e in events))


def profile(airflow_home: Path, dag_id: str = "ews_model") -> dict[str, RunProfile]:
    """Each run of ``dag_id`` under the home's task logs: its dbt tasks' phases (the latest attempt of each)."""
    runs: dict[str, RunProfile] = {}
    for run_dir in sorted((airflow_home / "logs" / f"dag_id={dag_id}").glob("run_id=*")):
        run = RunProfile()
        for task_dir in sorted(run_dir.glob("task_id=*")):
            attempts = sorted((p for p in task_dir.glob("attempt=*.log") if ATTEMPT.fullmatch(p.name)),
                              key=lambda p: int(p.stem.split("=")[1]))  # not a trigger's log
            phases = task_phases(attempts[-1]) if attempts else None
            if phases is not None:
                run.tasks.append(phases)
            elif attempts and (events := _events(attempts[-1])):
                run.other_tasks += 1
                run.other_task_s += (events[-1][0] - events[0][0]).total_seconds()
        if run.tasks:
            runs[run_dir.name.removeprefix("run_id=")] = run
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("airflow_home", type=Path)
    parser.add_argument("--dag", default="ews_model")
    args = parser.parse_args()
    for run_id, run in profile(args.airflow_home, args.dag).items():
        print(json.dumps({"run_id": run_id, **run.as_dict()}))


if __name__ == "__main__":
    main()
