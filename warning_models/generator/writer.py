"""Writes landing batches exactly as the contract describes: header in contract order, UTF-8, ``\\n``, csv quoting.

A batch is given column by column (column name -> list of already formatted strings; "" = NULL), so a
missing or extra column is caught here rather than silently shifting values.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import numpy as np

from warning_models.contract import control_path, get_source, landing_path

Batch = dict[str, list[str]]


def fmt_cents(cents: np.ndarray) -> list[str]:
    """Non-negative integer cents as fixed 2-decimal amounts."""
    values = np.asarray(cents, dtype=np.int64)
    if values.size and values.min() < 0:
        raise ValueError("amounts must be >= 0")
    units, frac = np.divmod(values, 100)
    return [f"{u}.{f:02d}" for u, f in zip(units.tolist(), frac.tolist())]


def fmt_fixed(values: np.ndarray, decimals: int) -> list[str]:
    return [f"{v:.{decimals}f}" for v in np.asarray(values, dtype=np.float64).tolist()]


def fmt_ints(values: np.ndarray) -> list[str]:
    return [str(v) for v in np.asarray(values, dtype=np.int64).tolist()]


def write_batch(landing_dir: Path, source: str, business_date: dt.date, batch: Batch) -> tuple[Path, int]:
    """Write one source's file for one business date (overwriting it); returns the path and the row count."""
    header = get_source(source).column_names
    if set(batch) != set(header):
        raise ValueError(f"{source}: batch columns {sorted(batch)} differ from the contract's {list(header)}")
    columns = [batch[name] for name in header]
    n_rows = len(columns[0])
    if any(len(c) != n_rows for c in columns):
        raise ValueError(f"{source}: columns of unequal length")
    path = landing_path(landing_dir, source, business_date)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(zip(*columns))
    return path, n_rows


def write_control(data_file: Path, batch: Batch) -> Path:
    """The extract job's control totals next to a batch: its row count and the sum of every ``_amount`` column."""
    n_rows = len(next(iter(batch.values()))) if batch else 0
    sums = {
        name: str(sum((Decimal(v) for v in values if v), Decimal("0")))
        for name, values in batch.items()
        if name.endswith("_amount")
    }
    path = control_path(data_file)
    path.write_text(json.dumps({"row_count": n_rows, "sums": sums}, sort_keys=True) + "\n", encoding="utf-8")
    return path
