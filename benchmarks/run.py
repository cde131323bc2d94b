"""The benchmark harness: banks of size S, M and L through the daily pipeline, each stage measured, floors beside.

    .venv/bin/python -m benchmarks.run --size S M L          # every size, 90 days of history each
    .venv/bin/python -m benchmarks.run --size S --history-ratio   # + the same day after 3 years vs 3 months
    .venv/bin/python -m benchmarks.run --size M --airflow celery  # + the same day through Airflow on Celery

For each size: generate a bank of ``--history-days`` days and the measured days after them, run the history
through the pipeline (``ews backfill``), then measure day by day, through the CLI's code path, each stage (load,
gate, dbt, indicators, alert cases: wall time, rows per second, peak memory of the process and of the warehouse's
backends). Beside them, on the same day: COPY of the same files into bare tables (the load floor), the SQL dbt
sent replayed by a plain client on a copy of the warehouse (the transform floor), and the day through Airflow
and Cosmos (``--airflow test``: ``airflow dags test``; ``--airflow celery``: the CeleryExecutor with Redis and
two workers). Results: ``benchmarks/results/<time>-<size>.json``; ``docs/benchmarks.md`` is rewritten from the
latest result of each size. Targets and how to read them: benchmarks/README.md.

Databases are created on EWS_BENCH_ADMIN_URL (default: the local server) and dropped at the end (``--keep`` keeps
them); files go to EWS_BENCH_HOME (default: /tmp/ews-bench).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import shutil
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import warning_models  # noqa: F401  (usage tracking off before anything else loads)
from benchmarks import bank, floors, report, warehouses
from benchmarks.meter import Meter, StageMeasure, machine_busy_cpu_s
from benchmarks.sizes import SIZES, BankSize
from warning_models.config import Settings, load_settings
from warning_models.pipeline import backfill, days_between, gate_loaded, load_days
from warning_models.roles import JobRole, job_url
from warning_models.warehouse import connect, migrate

log = logging.getLogger("benchmarks")

RESULTS_DIR = Path(__file__).with_name("results")
START = dt.date(2025, 1, 1)
MEASURED_DAYS = 4  # the default of --measured-days
COPY_LIMIT_MIB = 12_000  # a warehouse bigger than this is not copied (the L bank): Airflow runs the next day
BENCH_KEYS = {  # pseudonym keys of the throwaway banks (never a real bank's)
    "EWS_PSEUDONYM_KEY": "benchmark-pseudonym-key-0123456789abcdef",
    "EWS_CONSORTIUM_KEY": "benchmark-consortium-key-0123456789abcdef",
}


@dataclass
class Warehouse:
    """One benchmark database and the settings a run on it uses."""

    name: str
    url: str
    settings: Settings

    @classmethod
    def create(cls, admin: str, name: str, landing: Path, home: Path) -> "Warehouse":
        return cls(name, warehouses.create(admin, name), _settings(home, landing, warehouses.database_url(admin, name)))

    def copy(self, admin: str, name: str, home: Path) -> "Warehouse":
        return Warehouse(name, warehouses.copy(admin, self.name, name), _settings(home, self.settings.landing_dir,
                                                                                   warehouses.database_url(admin, name)))


def _settings(home: Path, landing: Path, url: str) -> Settings:
    home.mkdir(parents=True, exist_ok=True)
    return load_settings({
        "EWS_HOME": str(home), "EWS_LANDING_DIR": str(landing), "EWS_DATABASE_URL": url,
        "EWS_DBT_TARGET_DIR": str(home / "dbt_target"),
    })


def measure_cli_day(warehouse: Warehouse, day: dt.date) -> list[StageMeasure]:
    """The daily pipeline for one business date, as `ews run --date D` runs it (its report included), every stage
    measured."""
    from warning_models.report.build import report_dir, write_report

    meter = Meter(warehouse.name)
    started, busy = time.perf_counter(), machine_busy_cpu_s()
    backfill(day, day, settings=warehouse.settings, url=warehouse.url, observe=meter)
    with meter.measure("report", day), connect(job_url(warehouse.url, JobRole.BI_READER)) as conn:
        write_report(conn, day, report_dir(warehouse.settings.home, day))
    total = StageMeasure(
        "total", day.isoformat(), time.perf_counter() - started, None,
        max(s.client_peak_mib for s in meter.measures), max(s.server_peak_mib for s in meter.measures),
        # the machine's CPU seconds over the day (this process and PostgreSQL), to set beside an Airflow run's
        {"machine_cpu_s": round(machine_busy_cpu_s() - busy, 1)},
    )
    return [*meter.measures, total]


def build_history(warehouse: Warehouse, first: dt.date, last: dt.date, indicator_days: int | None = None) -> float:
    """The history through the pipeline (`ews backfill`); with ``indicator_days``, the days before the last ones
    are loaded, gated and built by dbt but not scored (the L bank: the measured days need the state of the days
    just before them, not a score of every day)."""
    started = time.perf_counter()
    if indicator_days is None or (last - first).days < indicator_days:
        backfill(first, last, settings=warehouse.settings, url=warehouse.url, progress=True)
    else:
        from warning_models.transform import DAILY_BUILD, run_dbt

        split = last - dt.timedelta(days=indicator_days)
        loader = job_url(warehouse.url, JobRole.LOADER)
        with connect(loader) as conn:
            gate_loaded(conn, loader, warehouse.settings,
                        load_days(conn, warehouse.settings, list(days_between(first, split)), progress=True))
        run_dbt(list(DAILY_BUILD), warehouse.url, warehouse.settings)
        backfill(split + dt.timedelta(days=1), last, settings=warehouse.settings, url=warehouse.url, progress=True)
    return time.perf_counter() - started


@dataclass
class SizeResult:
    size: str
    bank: dict[str, Any]
    history_days: int
    server: dict[str, str]
    warehouse_mib: float = 0.0
    history_build_s: float = 0.0
    days: list[dict[str, Any]] = field(default_factory=list)  # one per measured CLI day: its stages
    floors: dict[str, Any] = field(default_factory=dict)
    airflow: dict[str, Any] = field(default_factory=dict)
    history_ratio: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _day_record(day: dt.date, stages: list[StageMeasure]) -> dict[str, Any]:
    return {"business_date": day.isoformat(), "stages": [s.as_dict() for s in stages]}


def _stage(record: dict[str, Any], name: str) -> dict[str, Any]:
    return next(s for s in record["stages"] if s["stage"] == name)


CLI_COPY = "cli_copy"  # the warehouse copy the CLI runs the Airflow runs' day on


def bench_root(size: BankSize) -> Path:
    return Path(os.environ.get("EWS_BENCH_HOME", "/tmp/ews-bench")) / size.name


def run_size(size: BankSize, args: argparse.Namespace) -> SizeResult:
    admin = warehouses.admin_url()
    root = bench_root(size)
    for leftover in root.glob("*"):
        if leftover.name != "bank":  # a bank generated ahead is kept (bank.generate_once)
            shutil.rmtree(leftover) if leftover.is_dir() else leftover.unlink()
    days_total = args.history_days + args.measured_days
    first_measured = START + dt.timedelta(days=args.history_days)
    measured = list(days_between(first_measured, first_measured + dt.timedelta(days=args.measured_days - 1)))
    log.info("%s: generating %d days", size.name, days_total)
    generate_s = bank.generate_once(size, START, days_total, root / "bank")
    main = Warehouse.create(admin, f"ews_bench_{size.name.lower()}", root / "bank" / "landing", root / "main")
    migrate(main.url)
    result = SizeResult(
        size.name, {"borrowers": size.borrowers, "users": size.users, "instruments": size.instruments,
                    "generate_s": round(generate_s, 1)},
        args.history_days, warehouses.server_settings(main.url),
    )
    result.history_build_s = build_history(main, START, first_measured - dt.timedelta(days=1), args.indicator_days)
    if args.indicator_days is not None:
        result.notes.append(f"history scored on its last {args.indicator_days} days only (loaded, gated, built: all)")
    result.warehouse_mib = warehouses.size_mib(main.url)
    copies = result.warehouse_mib <= COPY_LIMIT_MIB
    modes = _airflow_modes(args)
    before = {}
    if copies:
        from warning_models.transform import run_dbt

        before["floor"] = main.copy(admin, f"{main.name}_floor", root / "floor")
        # the Airflow runs' CLI day: on a copy made with theirs, so both start with none of the copy's pages in
        # PostgreSQL's buffers (the CLI's first day on the main warehouse follows its history build, warm)
        for mode in [CLI_COPY, *modes] if modes else []:
            before[mode] = main.copy(admin, f"{main.name}_{mode}", root / mode)
            # the copy's dbt target as its own daily builds would have left it: the manifest Cosmos renders and
            # dbt's partial-parse state, parsed against the copy (dbt keeps a partial parse only for the profile
            # it was written with, and the copy is another database, so the history build's would not do)
            run_dbt(["parse"], before[mode].url, before[mode].settings)
    else:
        result.notes.append(f"warehouse {result.warehouse_mib:,.0f} MiB: not copied; Airflow runs the next day")

    # the measured days through the CLI's code path; dbt's log of the first one is the transform floor's SQL
    logs = main.settings.home / "logs"
    if logs.exists():
        logs.rename(main.settings.home / "logs_history")
    first_day = measure_cli_day(main, measured[0])
    result.days.append(_day_record(measured[0], first_day))
    statements = floors.dbt_log_statements(logs)

    # the load floor: the same files, COPY into bare tables
    copy = floors.copy_floor(main.url, main.settings.landing_dir, measured[0])
    load = _stage(result.days[0], "load")
    result.floors["load"] = {
        "copy_rows": copy.rows, "copy_s": round(copy.seconds, 3), "copy_rows_per_s": round(copy.rows_per_s),
        "load_rows_per_s": load["rows_per_s"], "load_vs_copy_pct": round(100 * load["rows_per_s"] / copy.rows_per_s, 1)
        if load["rows_per_s"] and copy.rows_per_s else None,
        "per_source": {k: [r, round(s, 3)] for k, (r, s) in copy.per_source.items()},
    }
    # the transform floor: dbt's SQL of that day, replayed on the warehouse as it was before dbt ran
    if "floor" in before:
        floor = before["floor"]
        loader = job_url(floor.url, JobRole.LOADER)
        with connect(loader) as conn:
            gate_loaded(conn, loader, floor.settings, load_days(conn, floor.settings, [measured[0]]))
        replay_s = floors.transform_floor(floor.url, statements, main.name)
        dbt = _stage(result.days[0], "dbt_build")
        result.floors["transform"] = {
            "statements": len(statements), "replay_s": round(replay_s, 2), "dbt_build_s": round(dbt["seconds"], 2),
            "dbt_vs_replay": round(dbt["seconds"] / replay_s, 2) if replay_s else None,
        }
        warehouses.drop(admin, floor.name)

    # Airflow: with copies, the first day on copies of the warehouse as it was before it; without (the L bank),
    # the days after the CLI's first, in date order, the CLI taking the last day again (bracketing them)
    if not copies and len(measured) < 1 + len(modes):
        raise SystemExit(f"size {size.name}: the warehouse is not copied, so each Airflow mode takes a day after the "
                         f"CLI's first: --measured-days {1 + len(modes)} at least for {modes}")
    airflow_days = (
        {mode: (before[mode], measured[0]) for mode in modes} if copies
        else {mode: (main, measured[1 + i]) for i, mode in enumerate(modes)}
    )
    cli_days = measured[1:] if copies else measured[1 + len(modes):]
    cli_on_copy: StageMeasure | None = None
    if copies:
        for day in cli_days:
            result.days.append(_day_record(day, measure_cli_day(main, day)))
        if modes:
            cli_on_copy = measure_cli_day(before[CLI_COPY], measured[0])[-1]
            warehouses.drop(admin, before[CLI_COPY].name)
    for mode, (target, day) in airflow_days.items():
        from benchmarks import airflow_day

        # on a copy, the local-mode cluster goes on with the other days as one Airflow backfill (the scale-out run)
        backfill = measured[1:] if copies and mode == "local" and args.airflow == "celery" else None
        result.airflow[mode] = airflow_day.measure(
            args.airflow, target, day, root / f"airflow_home_{mode}", mode, backfill=backfill
        )
        if copies:
            warehouses.drop(admin, target.name)
    if not copies:
        for day in cli_days:
            result.days.append(_day_record(day, measure_cli_day(main, day)))
    for run in result.airflow.values():
        if cli_on_copy is not None:
            # the same day through the CLI on a copy like the Airflow run's; on the main warehouse, for comparison
            run["cli_s"] = round(cli_on_copy.seconds, 2)
            run["cli_machine_cpu_s"] = cli_on_copy.detail.get("machine_cpu_s")
            run["cli_on_main_s"] = round(_stage(result.days[0], "total")["seconds"], 2)
        else:
            run["cli_s"] = round(statistics.mean(_stage(d, "total")["seconds"] for d in result.days), 2)
        run["airflow_vs_cli"] = round(run["wall_s"] / run["cli_s"], 2)

    if args.history_ratio:
        result.history_ratio = measure_history_ratio(size, args, root, admin)
    if not args.keep:
        warehouses.drop(admin, main.name)
    return result


def measure_history_ratio(size: BankSize, args: argparse.Namespace, root: Path, admin: str) -> dict[str, Any]:
    """The same days after ``--long-history-days`` of history and after ``--history-days``: the same bank, its
    landing folder cut at the later start (benchmarks/bank.py). The measured days are the main run's, so the long
    history starts that much earlier: it ends before today (the gate quarantines a business date in the future)."""
    days_total = args.long_history_days + args.measured_days
    first_measured = START + dt.timedelta(days=args.history_days)
    long_start = first_measured - dt.timedelta(days=args.long_history_days)
    measured = list(days_between(first_measured, first_measured + dt.timedelta(days=args.measured_days - 1)))
    bank.generate_once(size, long_start, days_total, root / "long_bank")
    short_start = first_measured - dt.timedelta(days=args.history_days)
    bank.shorter_history(root / "long_bank" / "landing", short_start, root / "short_landing")
    out: dict[str, Any] = {"long_history_days": args.long_history_days, "short_history_days": args.history_days,
                           "indicator_days": args.indicator_days,
                           "measured_at": dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")}
    for label, first, landing in (
        ("long", long_start, root / "long_bank" / "landing"),
        ("short", short_start, root / "short_landing"),
    ):
        warehouse = Warehouse.create(admin, f"ews_bench_{size.name.lower()}_{label}", landing, root / label)
        migrate(warehouse.url)
        out[f"{label}_history_build_s"] = round(
            build_history(warehouse, first, first_measured - dt.timedelta(days=1), args.indicator_days), 1
        )
        out[f"{label}_warehouse_mib"] = round(warehouses.size_mib(warehouse.url))
        out[f"{label}_days"] = [_day_record(day, measure_cli_day(warehouse, day)) for day in measured]
        if not args.keep:
            warehouses.drop(admin, warehouse.name)
    for stage in ("load", "gate", "dbt_build", "indicators", "alert_cases", "total"):
        long_s = statistics.median(_stage(d, stage)["seconds"] for d in out["long_days"])
        short_s = statistics.median(_stage(d, stage)["seconds"] for d in out["short_days"])
        out.setdefault("median_s", {})[stage] = {"long": round(long_s, 2), "short": round(short_s, 2),
                                                 "ratio": round(long_s / short_s, 2) if short_s else None}
    return out


def merge_history_ratio(size: BankSize, args: argparse.Namespace) -> Path:
    """The history ratio measured on its own, written into the size's latest result (its own time recorded)."""
    latest = report.latest_results(RESULTS_DIR).get(size.name)
    if latest is None:
        raise SystemExit(f"no result of size {size.name} in {RESULTS_DIR} to add the history ratio to")
    path = RESULTS_DIR / latest.pop("file")
    root = bench_root(size)
    latest["history_ratio"] = measure_history_ratio(size, args, root, warehouses.admin_url())
    path.write_text(json.dumps(latest, indent=1, default=str) + "\n")
    return path


AIRFLOW_MODES = ("local", "watcher", "build")


def _airflow_modes(args: argparse.Namespace) -> list[str]:
    """How Cosmos runs dbt in the Airflow runs (EWS_DBT_EXECUTION_MODE): a task per model (local), one build with
    a task per model watching it (watcher), one build task (build), or those of --airflow-modes; under `dags test`
    the local mode only."""
    if args.airflow == "none":
        return []
    if args.airflow == "test":
        return ["local"]
    return list(args.airflow_modes or AIRFLOW_MODES)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", nargs="+", choices=list(SIZES), default=["S"])
    parser.add_argument("--history-days", type=int, default=90, help="history before the measured days (default 90)")
    parser.add_argument("--measured-days", type=int, default=MEASURED_DAYS,
                        help=f"days measured after the history (default {MEASURED_DAYS}; L: 1, its day costs minutes)")
    parser.add_argument("--long-history-days", type=int, default=1095, help="the long history of --history-ratio")
    parser.add_argument("--history-ratio", action="store_true", help="also: the same days after the long history")
    parser.add_argument("--indicator-days", type=int, help="score only the last N days of the history (for L)")
    parser.add_argument("--airflow", choices=["none", "test", "celery"], default="none")
    parser.add_argument("--airflow-modes", nargs="+", choices=AIRFLOW_MODES,
                        help="with --airflow celery: only these ways of running dbt (default: all three)")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark databases")
    parser.add_argument("--history-ratio-only", action="store_true",
                        help="only the history ratio, merged into the size's latest result")
    parser.add_argument("--generate-only", action="store_true",
                        help="only generate the banks (a later run of the same sizes and days reuses them)")
    args = parser.parse_args()
    if args.generate_only:
        for name in args.size:
            seconds = bank.generate_once(SIZES[name], START, args.history_days + args.measured_days,
                                         bench_root(SIZES[name]) / "bank")
            print(f"{name}: {args.history_days + args.measured_days} days generated in {seconds:.0f} s")
        return
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    log.setLevel(logging.INFO)
    os.environ.update(BENCH_KEYS)
    RESULTS_DIR.mkdir(exist_ok=True)
    for name in args.size:
        if args.history_ratio_only:
            print(f"results: {merge_history_ratio(SIZES[name], args)}")
            continue
        result = run_size(SIZES[name], args)
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        path = RESULTS_DIR / f"{stamp}-{name}.json"
        record = {"measured_at": stamp, "machine": report.machine(), **result.__dict__}
        path.write_text(json.dumps(record, indent=1, default=str) + "\n")
        print(report.size_table(record))
        print(f"results: {path}")
    report.write_docs(RESULTS_DIR, Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md")


if __name__ == "__main__":
    main()
