"""Real market data shipped inside the pinned ``arch`` wheel, written as landing files, and the periods a
Markov-switching fit on the whole loaded history calls high-variance.

The S&P 500 daily closes 1999-01-04 .. 2018-12-31 (``arch.data.sp500``, adjusted close, 5,031 trading days,
read from the package's own CSV: nothing is downloaded) become the bank's instrument ``SP500``: every close
before the first daily date in one ``market_price_history`` file, then one ``market_prices`` file per trading
day, and a ``portfolio_positions`` file per day holding ``units`` of it in portfolio ``SPX``. So real prices
go through exactly the path a bank's files do (landing contract, quality gate, dbt, indicators).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from warning_models.contract import landing_path
from warning_models.errors import LandingError, Rule

INSTRUMENT_ID = "SP500"
PORTFOLIO_ID = "SPX"
DATASET = "arch.data.sp500"


def load_sp500() -> pd.Series:
    """Adjusted closes by trading day (``datetime.date`` index), from the CSV inside the arch wheel."""
    try:
        from arch.data import sp500
    except ImportError as exc:  # pragma: no cover - arch is a pinned dependency
        raise LandingError(Path("arch"), None, Rule.FILE_MISSING, "the arch package is not installed",
                           source=DATASET) from exc
    frame = sp500.load()
    if "Adj Close" not in frame.columns or len(frame) == 0:
        raise LandingError(Path(sp500.__file__), None, Rule.HEADER, f"unexpected layout: {list(frame.columns)}",
                           source=DATASET)
    closes = frame["Adj Close"].astype(float)
    closes.index = [d.date() for d in pd.to_datetime(frame.index)]
    return closes


@dataclass(frozen=True)
class LandingWritten:
    history_rows: int
    history_business_date: dt.date
    daily_dates: list[dt.date]

    def __str__(self) -> str:
        return (
            f"{DATASET}: {self.history_rows} closes in market_price_history/{self.history_business_date}.csv, "
            f"{len(self.daily_dates)} daily market_prices and portfolio_positions files "
            f"({self.daily_dates[0]} .. {self.daily_dates[-1]})"
        )


def _write(path: Path, frame: pd.DataFrame) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False, lineterminator="\n")


def write_landing(
    landing_dir: Path, first_daily: dt.date, last_daily: dt.date, units: float = 1000.0
) -> LandingWritten:
    """History before ``first_daily``, then daily files for every S&P trading day up to ``last_daily``."""
    closes = load_sp500()
    daily = [d for d in closes.index if first_daily <= d <= last_daily]
    if not daily or daily[0] != first_daily:
        raise ValueError(f"{first_daily} is not an S&P 500 trading day in {DATASET} (1999-01-04 .. 2018-12-31)")
    history = closes[closes.index < first_daily]
    _write(
        landing_path(landing_dir, "market_price_history", first_daily),
        pd.DataFrame({"instrument_id": INSTRUMENT_ID, "price_date": [d.isoformat() for d in history.index],
                      "close_price": np.round(history.to_numpy(), 4)}),
    )
    for day in daily:
        _write(landing_path(landing_dir, "market_prices", day),
               pd.DataFrame({"instrument_id": [INSTRUMENT_ID], "price_date": [day.isoformat()],
                             "close_price": [round(float(closes[day]), 4)]}))
        _write(landing_path(landing_dir, "portfolio_positions", day),
               pd.DataFrame({"portfolio_id": [PORTFOLIO_ID], "instrument_id": [INSTRUMENT_ID],
                             "position_date": [day.isoformat()], "quantity": [units]}))
    return LandingWritten(len(history), first_daily, daily)


@dataclass(frozen=True)
class RegimePeriod:
    first: dt.date
    last: dt.date
    trading_days: int
    peak_probability: float
    worst_return_pct: float

    def __str__(self) -> str:
        return (
            f"{self.first} .. {self.last}  {self.trading_days:>4} days  peak p {self.peak_probability:.2f}  "
            f"worst day {self.worst_return_pct:+.1f} %"
        )


def regime_periods(
    dates: list[dt.date], probability: np.ndarray, returns_pct: np.ndarray, threshold: float = 0.5,
    min_days: int = 10, merge_gap_days: int = 5,
) -> list[RegimePeriod]:
    """Runs of days with ``probability > threshold``; runs closer than ``merge_gap_days`` trading days are
    merged, and merged runs shorter than ``min_days`` dropped."""
    above = np.asarray(probability) > threshold
    runs: list[list[int]] = []
    for i in np.flatnonzero(above):
        if runs and i - runs[-1][1] <= merge_gap_days:
            runs[-1][1] = int(i)
        else:
            runs.append([int(i), int(i)])
    return [
        RegimePeriod(dates[a], dates[b], b - a + 1, float(np.max(probability[a : b + 1])),
                     float(np.min(returns_pct[a : b + 1])))
        for a, b in runs
        if b - a + 1 >= min_days
    ]
