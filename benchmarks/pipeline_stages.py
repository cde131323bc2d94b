"""Benchmark: wall time and peak memory of each pipeline stage for a synthetic bank of a given size.

    .venv/bin/python benchmarks/pipeline_stages.py --days 180 --borrowers 1500 [--url postgresql://...]

Without --url a throwaway database is created on EWS_BENCH_ADMIN_URL (default: the local server) and dropped
afterwards. Prints one line per stage and appends a JSON record to benchmarks/results.jsonl.
Targets (2 cores, 24 GiB): see benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import tempfile
import time
from pathlib import Path

import psycopg2

import warning_models  # noqa: F401  (tracking off)
from warning_models.config import load_settings
from warning_models.generator import BankConfig, generate_bank
from warning_models.indicators import run_indicators
from warning_models.pipeline import days_between, ingest_days
from warning_models.transform import run_dbt
from warning_models.warehouse import connect, migrate

RESULTS = Path(__file__).with_name("results.jsonl")


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument("--borrowers", type=int, default=1500)
    parser.add_argument("--users", type=int, default=60)
    parser.add_argument("--url")
    args = parser.parse_args()
    admin = os.environ.get("EWS_BENCH_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    name = f"ews_bench_{os.getpid()}"
    url = args.url
    if url is None:
        conn = psycopg2.connect(admin)
        conn.autocommit = True
        conn.cursor().execute(f'create database "{name}"')
        url = admin.rsplit("/", 1)[0] + f"/{name}"
    home = Path(tempfile.mkdtemp(prefix="ews-bench-"))
    settings = load_settings({"EWS_HOME": str(home), "EWS_DATABASE_URL": url})
    config = BankConfig(days=args.days, n_borrowers=args.borrowers, n_users=args.users)
    stages: dict[str, float] = {}
    t = time.perf_counter()
    generate_bank(config, settings.landing_dir, settings.truth_path, progress=False)
    stages["generate_s"] = time.perf_counter() - t
    migrate(url)
    days = list(days_between(config.start_date, config.start_date + dt.timedelta(days=config.days - 1)))
    t = time.perf_counter()
    with connect(url) as conn:
        ingest_days(conn, url, settings, days)
    stages["load_and_gate_s"] = time.perf_counter() - t
    t = time.perf_counter()
    run_dbt(["build"], url, settings)
    stages["dbt_build_s"] = time.perf_counter() - t
    t = time.perf_counter()
    for day in days:
        run_indicators(url, day)
    stages["indicators_s"] = time.perf_counter() - t
    record = {
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "days": args.days,
        "borrowers": args.borrowers,
        "users": args.users,
        **{k: round(v, 1) for k, v in stages.items()},
        "indicators_per_day_s": round(stages["indicators_s"] / len(days), 2),
        "peak_rss_mib": round(_peak_rss_mib()),
    }
    for key, value in record.items():
        print(f"{key:22} {value}")
    with RESULTS.open("a") as f:
        f.write(json.dumps(record) + "\n")
    if args.url is None:
        conn = psycopg2.connect(admin)
        conn.autocommit = True
        conn.cursor().execute(f'drop database "{name}" with (force)')


if __name__ == "__main__":
    main()
