"""The benchmark harness's own bookkeeping (its figures are measured by benchmarks/run.py, never asserted here):
a bank generated ahead is reused only when it is the same bank, and docs/benchmarks.md keeps its written head
while its results are rewritten."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from benchmarks import bank, report
from benchmarks.sizes import BankSize

TINY = BankSize("T", borrowers=40, users=5, instruments=3)
START = dt.date(2025, 1, 1)


def test_a_bank_generated_ahead_is_reused_only_for_the_same_bank(tmp_path: Path) -> None:
    home = tmp_path / "bank"
    first = bank.generate_once(TINY, START, 3, home)
    files = sorted(p.relative_to(home) for p in (home / "landing").rglob("*.csv"))
    assert files, "the bank has landing files"
    marker = home / "landing" / "kept.txt"
    marker.write_text("the same bank: nothing regenerated")

    again = bank.generate_once(TINY, START, 3, home)
    assert again == json.loads((home / "bank.json").read_text())["generate_s"] == round(first, 1)
    assert marker.exists()

    bank.generate_once(TINY, START, 4, home)  # another span: another bank
    assert not marker.exists()
    assert len(list((home / "landing").rglob("*.csv"))) > len(files)


def _record(size: str, total_s: float, load_pct: float) -> dict:
    stages = [{"stage": s, "seconds": total_s / 2, "rows": 10, "rows_per_s": 5.0, "client_peak_mib": 100.0,
               "server_peak_mib": 50.0} for s in ("load", "gate")]
    stages.append({"stage": "total", "seconds": total_s, "rows": None, "rows_per_s": None, "client_peak_mib": 5000.0,
                   "server_peak_mib": 60.0})
    return {
        "size": size, "measured_at": "20261202T000000Z", "bank": {"borrowers": 1, "users": 1, "instruments": 1},
        "history_days": 30, "warehouse_mib": 1.0, "days": [{"business_date": "2025-02-01", "stages": stages}],
        "floors": {"load": {"copy_rows": 10, "copy_s": 1.0, "copy_rows_per_s": 10, "load_rows_per_s": 5,
                            "load_vs_copy_pct": load_pct}},
        "airflow": {"local": {"mode": "celery", "wall_s": 30.0, "cli_s": 10.0, "airflow_vs_cli": 3.0,
                              "backfill": {"days": 3, "ews_load_runs": 3, "ews_model_runs": 2, "wall_s": 60.0,
                                           "tasks": 40, "tasks_per_worker": {"w1": 21, "w2": 19},
                                           "max_concurrency": 4},
                              "cosmos_profile": {"dbt_tasks": 2, "full_parses": 0, "mean_task_s": 15.0,
                                                 "phase_pct": {"dbt_parse": 60.0, "dbt_work": 40.0}}}},
        "notes": ["a note"],
    }


def test_the_docs_keep_their_head_and_judge_each_target(tmp_path: Path) -> None:
    results = tmp_path / "results"
    results.mkdir()
    (results / "20261201T000000Z-L.json").write_text(json.dumps(_record("L", 400.0, 80.0)))
    latest = _record("L", 200.0, 40.0)
    latest["airflow"]["build"] = {"mode": "celery", "wall_s": 12.0, "cli_s": 10.0, "airflow_vs_cli": 1.2}
    (results / "20261202T000000Z-L.json").write_text(json.dumps(latest))  # the latest wins
    (results / "20261202T000000Z-M.json").write_text(json.dumps(_record("M", 100.0, 40.0) | {"airflow": {}}))
    target = tmp_path / "benchmarks.md"
    target.write_text("# Benchmarks\n\nThe bottleneck, named by hand.\n\n<!-- results -->\nold tables\n")

    report.write_docs(results, target)
    text = target.read_text()
    assert text.startswith("# Benchmarks\n\nThe bottleneck, named by hand.\n\n<!-- results -->\n")
    assert "old tables" not in text
    assert "| load >= 50 % of raw COPY throughput | L | 40.00 | **no** |" in text
    assert "| size L, one business day <= 5 minutes | L | 200.00 | yes |" in text
    assert "| size L, peak memory (process + warehouse backends) <= 4 GiB | L | 5,060.00 | **no** |" in text
    assert "| 3 years of history <= 1.25 x 3 months, the same day | L | not measured | - |" in text
    assert "| Airflow + Cosmos <= 1.5 x the CLI, the same day (Cosmos local) | L | 3.00 | **no** |" in text
    assert "| Airflow + Cosmos <= 1.5 x the CLI, the same day (Cosmos build) | L | 1.20 | yes |" in text
    assert "| Airflow + Cosmos <= 1.5 x the CLI, the same day | M | not measured | - |" in text
    assert "per worker {'w1': 21, 'w2': 19}, up to 4 at once" in text
    assert "Its 2 dbt tasks (0 parsing in full), 15.0 s each on average" in text
    assert "dbt_parse 60.0 %, dbt_work 40.0 %." in text
    report.write_docs(results, target)
    assert target.read_text() == text  # rewriting is stable: one results section


def _task_log(path: Path, lines: list[tuple[float, str]]) -> None:
    path.parent.mkdir(parents=True)
    base = dt.datetime(2026, 12, 3, 7, 30, tzinfo=dt.UTC)
    path.write_text("".join(
        json.dumps({"timestamp": (base + dt.timedelta(seconds=s)).isoformat(), "event": e}) + "\n" for s, e in lines
    ) + "not json: a line Airflow wrote raw\n")


def test_the_cosmos_profile_cuts_each_dbt_task_log_into_its_phases(tmp_path: Path) -> None:
    from benchmarks import cosmos_profile

    run = tmp_path / "logs" / "dag_id=ews_model" / "run_id=r1"
    _task_log(run / "task_id=dbt.fct_loan_days_model_build" / "attempt=1.log", [
        (0.0, "::group::Pre Execute"), (1.5, "Worker startup parse complete"),
        (5.0, "Trying to run dbtRunner with: ['build']"), (6.0, "Registered adapter: postgres=1.11.0"),
        (11.0, "Found 68 models, 378 data tests"), (14.5, "Finished running 1 incremental model"),
        (16.0, "Done. PASS=15 WARN=0 ERROR=0"), (17.0, "::endgroup::"),
    ])
    _task_log(run / "task_id=dbt.dim_loans_model_build" / "attempt=2.log", [
        (0.0, "start"), (1.0, "Worker startup parse complete"), (2.0, "Trying to run dbtRunner"),
        (3.0, "Registered adapter"), (3.5, "Unable to do partial parsing because saved manifest not found."),
        (13.0, "Found 68 models"), (14.0, "Finished running"), (14.5, "Done. PASS=3"), (15.0, "end"),
    ])
    _task_log(run / "task_id=business_dates" / "attempt=1.log", [(0.0, "start"), (2.0, "Done. Returned value")])
    _task_log(run / "task_id=dbt.fct_user_days.run" / "attempt=1.log", [(0.0, "deferring"), (3.0, "resumed")])
    (run / "task_id=dbt.fct_user_days.run" / "attempt=1.log.trigger.3.log").write_text("a trigger's log\n")

    profiles = cosmos_profile.profile(tmp_path)
    assert list(profiles) == ["r1"]
    summary = profiles["r1"].as_dict()
    assert summary["dbt_tasks"] == 2 and summary["full_parses"] == 1  # business_dates is no dbt task
    assert summary["phase_s"] == {"task_start": 2.5, "cosmos_setup": 4.5, "dbt_startup": 2.0, "dbt_parse": 15.0,
                                  "dbt_work": 4.5, "dbt_artefacts": 2.0, "cosmos_teardown": 1.5}
    assert summary["task_s"] == 32.0 and summary["mean_task_s"] == 16.0
    assert summary["other_tasks"] == 2 and summary["other_task_s"] == 5.0  # business_dates and a sensor


def test_a_shorter_history_starts_later_with_the_book_known_by_then(tmp_path: Path) -> None:
    home = tmp_path / "bank"
    bank.generate_once(TINY, START, 5, home)
    landing, short = home / "landing", tmp_path / "short"
    first = START + dt.timedelta(days=2)
    bank.shorter_history(landing, first, short / "stale")  # a folder left by an earlier run is replaced
    (short / "stale" / "left-over.csv").write_text("x")
    for _ in range(2):
        bank.shorter_history(landing, first, short / "stale")
    target = short / "stale"
    assert not (target / "left-over.csv").exists()
    days = {dt.date.fromisoformat(p.stem) for p in target.rglob("*.csv")}
    assert min(days) == first and max(days) == START + dt.timedelta(days=4)
    # the first day's book holds every borrower delivered up to it, each once
    delivered = set()
    for path in sorted((landing / "borrowers").glob("*.csv")):
        if dt.date.fromisoformat(path.stem) <= first:
            delivered |= {line.split(",")[0] for line in path.read_text().splitlines()[1:]}
    book = [line.split(",")[0] for line in (target / "borrowers" / f"{first}.csv").read_text().splitlines()[1:]]
    assert sorted(book) == sorted(delivered) and len(book) == len(set(book))


def test_the_cpu_sampler_charges_a_process_tree_for_its_childrens_work() -> None:
    import subprocess
    import sys
    import time

    import psutil

    from benchmarks.airflow_day import _cpu_by_part
    from benchmarks.meter import CpuSampler

    burn = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.6: pass"
    # a parent that starts a child which burns CPU and exits: the child's seconds reach the parent once it waits
    parent = subprocess.Popen(
        [sys.executable, "-c", f"import subprocess, sys, time; subprocess.run([sys.executable, '-c', {burn!r}]); time.sleep(5)"]
    )
    idle = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(5)"])
    try:
        with CpuSampler({"ews-worker-1": psutil.Process(parent.pid), "scheduler": psutil.Process(idle.pid)}, 0.1) as cpu:
            start = cpu.samples[0][0]
            deadline = time.monotonic() + 4
            while not psutil.Process(parent.pid).cpu_times().children_user and time.monotonic() < deadline:
                time.sleep(0.1)
            end = time.time()
    finally:
        parent.kill()
        idle.kill()
    used = cpu.between(start, end)
    assert used["ews-worker-1"] >= 0.5, used  # the child's 0.6 s, counted though it exited
    assert used["scheduler"] < 0.2, used
    assert used["machine"] >= used["ews-worker-1"]
    parts = _cpu_by_part(used, ("ews-worker-1",))
    assert parts["workers"] == used["ews-worker-1"] and "ews-worker-1" not in parts
    assert parts["rest"] == round(used["machine"] - used["ews-worker-1"] - used["scheduler"], 1)
