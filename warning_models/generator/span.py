"""The business-date span of a generated bank, and the day/month arithmetic the simulators share.

Days are handled as numpy ``datetime64[D]`` integers (days since 1970-01-01) and months as
``datetime64[M]`` integers (months since 1970-01), so schedules can be computed for a whole book at once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from warning_models.contract import is_trading_day


def day_number(day: dt.date) -> int:
    """Days since 1970-01-01."""
    return int(np.datetime64(day, "D").astype(np.int64))


def month_number(day: dt.date) -> int:
    """Months since 1970-01."""
    return (day.year - 1970) * 12 + day.month - 1


def to_date(day_num: int) -> dt.date:
    return dt.date(1970, 1, 1) + dt.timedelta(days=int(day_num))


def due_day_numbers(month_nums: np.ndarray, day_of_month: np.ndarray) -> np.ndarray:
    """Day numbers of the given day-of-month (1..28) in the given months."""
    first = np.asarray(month_nums, dtype=np.int64).astype("datetime64[M]").astype("datetime64[D]")
    return first.astype(np.int64) + np.asarray(day_of_month, dtype=np.int64) - 1


def iso_dates(day_nums: np.ndarray) -> list[str]:
    """ISO 8601 strings (YYYY-MM-DD) of day numbers."""
    return np.datetime_as_string(np.asarray(day_nums, dtype=np.int64).astype("datetime64[D]"), unit="D").tolist()


@dataclass(frozen=True)
class Span:
    """Every calendar day from ``start`` on, ``days`` of them: the bank's business dates."""

    start: dt.date
    days: int

    @property
    def end(self) -> dt.date:
        return self.start + dt.timedelta(days=self.days - 1)

    @cached_property
    def dates(self) -> tuple[dt.date, ...]:
        return tuple(self.start + dt.timedelta(days=i) for i in range(self.days))

    @cached_property
    def trading_days(self) -> tuple[dt.date, ...]:
        return tuple(d for d in self.dates if is_trading_day(d))

    @property
    def start_num(self) -> int:
        return day_number(self.start)

    @property
    def end_num(self) -> int:
        return day_number(self.end)
