"""The benchmark results as tables: one per size on the terminal, and docs/benchmarks.md from the latest of each."""

from __future__ import annotations

import json
import os
import platform
import statistics
from pathlib import Path
from typing import Any

import psutil

STAGES = ("load", "gate", "dbt_build", "indicators", "alert_cases", "report", "total")
TARGETS = {
    "load_vs_copy_pct": ("load >= 50 % of raw COPY throughput", lambda v: v >= 50),
    "history_ratio": ("3 years of history <= 1.25 x 3 months, the same day", lambda v: v <= 1.25),
    "airflow_vs_cli": ("Airflow + Cosmos <= 1.5 x the CLI, the same day", lambda v: v <= 1.5),
    "l_day_s": ("size L, one business day <= 5 minutes", lambda v: v <= 300),
    "l_peak_mib": ("size L, peak memory (process + warehouse backends) <= 4 GiB", lambda v: v <= 4096),
}


def machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(), "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(), "system": platform.platform(),
    }


def _fmt(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "-"
    return f"{value:,.{digits}f}" if abs(value) < 1e5 else f"{value:,.0f}"


def _median_stages(days: list[dict[str, Any]]) -> dict[str, dict[str, float | None]]:
    out: dict[str, dict[str, float | None]] = {}
    for stage in STAGES:
        found = [next((s for s in d["stages"] if s["stage"] == stage), None) for d in days]
        found = [s for s in found if s is not None]
        if not found:
            continue
        rates = [s["rows_per_s"] for s in found if s.get("rows_per_s")]
        out[stage] = {
            "seconds": statistics.median(s["seconds"] for s in found),
            "rows": statistics.median(s["rows"] for s in found) if all(s.get("rows") is not None for s in found) else None,
            "rows_per_s": statistics.median(rates) if rates else None,
            "client_peak_mib": max(s["client_peak_mib"] for s in found),
            "server_peak_mib": max(s["server_peak_mib"] for s in found),
        }
    return out


def size_table(record: dict[str, Any]) -> str:
    """The stages of one size: the median over its measured days (peaks: the maximum)."""
    rows = _median_stages(record["days"])
    lines = [
        f"Size {record['size']}: {record['bank']['borrowers']:,} borrowers, {record['bank']['users']:,} users, "
        f"{record['bank']['instruments']:,} instruments, {record['history_days']} days of history "
        f"({record['warehouse_mib']:,.0f} MiB), {len(record['days'])} measured days",
        "",
        "| stage | wall s | rows | rows/s | peak client MiB | peak warehouse MiB |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for stage, m in rows.items():
        lines.append(
            f"| {stage} | {_fmt(m['seconds'], 2)} | {_fmt(m['rows'], 0)} | {_fmt(m['rows_per_s'], 0)} | "
            f"{_fmt(m['client_peak_mib'], 0)} | {_fmt(m['server_peak_mib'], 0)} |"
        )
    return "\n".join(lines)


def ratios(record: dict[str, Any]) -> dict[str, float | None]:
    out: dict[str, float | None] = {
        "load_vs_copy_pct": (record.get("floors") or {}).get("load", {}).get("load_vs_copy_pct"),
        "dbt_vs_replay": (record.get("floors") or {}).get("transform", {}).get("dbt_vs_replay"),
        # one per way Cosmos ran dbt (``airflow_vs_cli:<mode>``), or not measured
        **({f"airflow_vs_cli:{mode}": a["airflow_vs_cli"] for mode, a in record["airflow"].items()}
           if record.get("airflow") else {"airflow_vs_cli": None}),
        "history_ratio": ((record.get("history_ratio") or {}).get("median_s") or {}).get("total", {}).get("ratio"),
    }
    if record["size"] == "L":
        total = _median_stages(record["days"]).get("total", {})
        out["l_day_s"] = total.get("seconds")
        # the pipeline's process and the warehouse's backends serving it: both peaks, summed (an upper bound)
        out["l_peak_mib"] = (total.get("client_peak_mib") or 0.0) + (total.get("server_peak_mib") or 0.0) or None
    return out


def latest_results(results_dir: Path) -> dict[str, dict[str, Any]]:
    latest: dict[str, dict[str, Any]] = {}
    for path in sorted(results_dir.glob("*.json")):
        record = json.loads(path.read_text())
        latest[record["size"]] = record | {"file": path.name}
    return latest


def write_docs(results_dir: Path, target: Path) -> None:
    """docs/benchmarks.md: the latest result of each size, its ratios against the targets, how it was measured."""
    latest = latest_results(results_dir)
    head = target.read_text().split("<!-- results -->")[0] if target.exists() else "# Benchmarks\n\n"
    parts = [head.rstrip() + "\n\n<!-- results -->\n"]
    parts.append("## Targets\n\n| target | size | measured | met |\n|---|---|---:|---|")
    for size, record in latest.items():
        for key, value in ratios(record).items():
            name, _, mode = key.partition(":")
            if name not in TARGETS:
                continue
            words, check = TARGETS[name]
            words += f" (Cosmos {mode})" if mode else ""
            if value is None:
                parts.append(f"| {words} | {size} | not measured | - |")
            else:
                parts.append(f"| {words} | {size} | {_fmt(value, 2)} | {'yes' if check(value) else '**no**'} |")
    for size, record in latest.items():
        parts.append(f"\n## Size {size} ({record['measured_at']}, `benchmarks/results/{record['file']}`)\n")
        parts.append(size_table(record))
        floors_ = record.get("floors") or {}
        if "load" in floors_:
            f = floors_["load"]
            parts.append(
                f"\nLoad floor: COPY of the same {f['copy_rows']:,} rows into bare tables {f['copy_s']} s "
                f"({_fmt(f['copy_rows_per_s'], 0)} rows/s); the loader {_fmt(f['load_rows_per_s'], 0)} rows/s: "
                f"{f['load_vs_copy_pct']} % of COPY."
            )
        if "transform" in floors_:
            f = floors_["transform"]
            parts.append(
                f"Transform floor: the {f['statements']} statements dbt sent, replayed by a plain client: "
                f"{f['replay_s']} s; dbt build {f['dbt_build_s']} s ({f['dbt_vs_replay']} x)."
            )
        for mode, a in (record.get("airflow") or {}).items():
            parts.append(
                f"Airflow ({a.get('mode')}, Cosmos {mode}): {a['wall_s']} s for the day against the CLI's "
                f"{a['cli_s']} s ({a['airflow_vs_cli']} x)"
                + (f", the CLI on a copy of the warehouse like Airflow's (on the warehouse itself, just after its "
                   f"history build: {a['cli_on_main_s']} s)" if "cli_on_main_s" in a else "")
                + (f"; {a['tasks']} tasks, per worker {a['tasks_per_worker']}, up to {a['max_concurrency']} at once"
                   if "tasks" in a else "") + "."
            )
            if a.get("cpu_s"):
                cpu = a["cpu_s"]
                parts.append(
                    f"CPU seconds over the Airflow day: {cpu['machine']} on the machine ("
                    + ", ".join(f"{k} {v}" for k, v in cpu.items() if k != "machine")
                    + ")" + (f", against {a['cli_machine_cpu_s']} for the CLI's day" if a.get("cli_machine_cpu_s")
                             else "") + "."
                )
            if (a.get("cosmos_profile") or {}).get("dbt_tasks"):
                c = a["cosmos_profile"]
                parts.append(
                    f"Its {c['dbt_tasks']} dbt tasks ({c['full_parses']} parsing in full), {c['mean_task_s']} s each "
                    "on average; of their time (`benchmarks/cosmos_profile.py`): "
                    + ", ".join(f"{phase} {pct} %" for phase, pct in c["phase_pct"].items()) + "."
                )
            if a.get("backfill"):
                b = a["backfill"]
                parts.append(
                    f"Backfill on Celery (Cosmos {mode}): `airflow backfill create` of ews_load over the next "
                    f"{b['days']} days: {b['ews_load_runs']} ews_load and {b['ews_model_runs']} ews_model runs, "
                    f"{b['wall_s']} s, {b['tasks']} tasks, per worker {b['tasks_per_worker']}, up to "
                    f"{b['max_concurrency']} at once; days modelled per ews_model run {b.get('model_order')}"
                    + (f"; **not modelled: {b['unmodelled_days']}**" if b.get("unmodelled_days") else "") + "."
                )
        if record.get("history_ratio"):
            h = record["history_ratio"]
            parts.append(
                f"\nHistory: the same days after {h['long_history_days']} days of history and after "
                f"{h['short_history_days']} (median of {len(h['long_days'])} days"
                + (f", measured {h['measured_at']}" if h.get("measured_at") else "") + "):\n\n"
                "| stage | long history s | short history s | ratio |\n|---|---:|---:|---:|"
            )
            for stage, m in h["median_s"].items():
                parts.append(f"| {stage} | {m['long']} | {m['short']} | {m['ratio']} |")
        for note in record.get("notes", []):
            parts.append(f"\nNote: {note}")
    target.write_text("\n".join(parts) + "\n")
