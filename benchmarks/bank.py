"""The benchmark banks: a synthetic bank of a given size and span, and the same bank with a shorter history.

``shorter_history`` turns the landing folder of a long bank into the one a bank would deliver had it started
ews on a later day: that day's files carry everything known by then (the book of borrowers and loans, the price
history, the macro publications and crisis dates), the daily files of earlier days are left out. The day measured
afterwards is then the same day, with the same loans, users and instruments, on a warehouse with less history.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import shutil
import time
from pathlib import Path

from benchmarks.sizes import BankSize
from warning_models.contract import SOURCES, control_path, get_source, landing_path
from warning_models.generator import BankConfig, generate_bank

# Sources whose files add to what is known (a book, a history): everything up to the new first day goes into its
# file, the latest delivery of a key winning. The others are daily facts, kept from the first day on.
KNOWN_SOURCES: dict[str, tuple[str, ...]] = {
    "borrowers": ("borrower_id",),
    "loans": ("loan_id",),
    "market_price_history": ("instrument_id", "price_date"),
    "macro_series": ("series_id", "period_end_date"),
    "macro_crises": ("economy_code", "crisis_start_date"),
}


def bank_config(size: BankSize, start: dt.date, days: int, seed: int = 42) -> BankConfig:
    return BankConfig(
        start_date=start, days=days, n_borrowers=size.borrowers, n_instruments=size.instruments,
        n_users=size.users, seed=seed,
    )


def generate(size: BankSize, start: dt.date, days: int, home: Path) -> None:
    """Write the bank's landing files under ``home/landing`` (and its truth file)."""
    generate_bank(bank_config(size, start, days), home / "landing", home / "truth.json", progress=False)


def generate_once(size: BankSize, start: dt.date, days: int, home: Path) -> float:
    """``generate`` unless ``home`` already holds this very bank (its stamp, ``bank.json``, written last): the
    seconds the generation took, then or now. A big bank is generated ahead (``benchmarks.run --generate-only``)."""
    stamp = home / "bank.json"
    wanted = {"size": size.name, "start": start.isoformat(), "days": days, "config": repr(bank_config(size, start, days))}
    if stamp.exists():
        recorded = json.loads(stamp.read_text())
        if {k: recorded.get(k) for k in wanted} == wanted:
            return float(recorded["generate_s"])
    shutil.rmtree(home, ignore_errors=True)
    started = time.perf_counter()
    generate(size, start, days, home)
    seconds = time.perf_counter() - started
    stamp.write_text(json.dumps({**wanted, "generate_s": round(seconds, 1)}) + "\n")
    return seconds


def _rows(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        return header, list(reader)


def _link(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.symlink_to(source.resolve())
    if control_path(source).exists():
        control_path(target).symlink_to(control_path(source).resolve())


def shorter_history(landing: Path, first_day: dt.date, target: Path) -> None:
    """Write to ``target`` the landing folder of the same bank starting on ``first_day`` (links where unchanged);
    a folder left there by an earlier run is replaced."""
    shutil.rmtree(target, ignore_errors=True)
    for source in SOURCES:
        files = sorted((landing / source).glob("*.csv"))
        later = [f for f in files if dt.date.fromisoformat(f.stem) > first_day]
        for path in later:
            _link(path, landing_path(target, source, dt.date.fromisoformat(path.stem)))
        known = [f for f in files if dt.date.fromisoformat(f.stem) <= first_day]
        first = landing_path(target, source, first_day)
        if source in KNOWN_SOURCES:
            header, rows = _known_by(source, known, landing, first_day)
            if rows or source in ("borrowers", "loans"):
                _write(first, header, rows)
        elif known and dt.date.fromisoformat(known[-1].stem) == first_day:
            _link(known[-1], first)


def _known_by(source: str, files: list[Path], landing: Path, first_day: dt.date) -> tuple[list[str], list[list[str]]]:
    """Every row delivered up to ``first_day`` (the latest version of each key); the price history also takes
    the daily closes before ``first_day``."""
    header = list(get_source(source).column_names)
    parts = list(files)
    if source == "market_price_history":
        parts += [f for f in sorted((landing / "market_prices").glob("*.csv")) if dt.date.fromisoformat(f.stem) < first_day]
    latest: dict[tuple[str, ...], list[str]] = {}
    for path in parts:
        file_header, rows = _rows(path)
        positions = [file_header.index(c) for c in header]
        key_at = [header.index(k) for k in KNOWN_SOURCES[source]]
        for row in rows:
            ordered = [row[i] for i in positions]
            latest[tuple(ordered[i] for i in key_at)] = ordered
    return header, list(latest.values())


def _write(path: Path, header: list[str], rows: list[list[str]]) -> None:
    """A landing file without control totals (the extract job of the new start day would write its own)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")
