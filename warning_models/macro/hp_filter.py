"""The Hodrick-Prescott filter, two-sided and one-sided (real time), by a banded solve.

The two-sided trend solves (I + lambda * D'D) trend = y, D the second-difference matrix: the same system as
``statsmodels.tsa.filters.hp_filter.hpfilter``, here as a symmetric pentadiagonal (banded) solve, O(n)
instead of a sparse factorisation, so the one-sided trend (one solve per quarter) stays cheap.
The one-sided trend of quarter t is the last point of the two-sided trend of y[:t + 1]: what a supervisor
could have computed with the data of that quarter (Basel III credit-to-GDP gap convention).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.linalg import solveh_banded


def hp_trend(y: Sequence[float] | np.ndarray, lamb: float) -> np.ndarray:
    """Two-sided HP trend of ``y`` (at least 3 points; fewer are returned unchanged)."""
    series = np.asarray(y, dtype=np.float64)
    n = series.size
    if n < 3:
        return series.copy()
    # Upper band storage of I + lamb * D'D: rows are the 2nd superdiagonal, the 1st, the diagonal.
    diagonal = np.full(n, 6.0)
    diagonal[[1, -2]] = 5.0 if n > 3 else 4.0  # n == 3: D'D = [[1, -2, 1], [-2, 4, -2], [1, -2, 1]]
    diagonal[[0, -1]] = 1.0
    first = np.full(n - 1, -4.0)
    first[[0, -1]] = -2.0
    bands = np.zeros((3, n))
    bands[0, 2:] = lamb
    bands[1, 1:] = lamb * first
    bands[2, :] = 1.0 + lamb * diagonal
    # lambda 400,000 makes the system ill-conditioned (~1e7): any float64 solve, statsmodels' sparse one
    # included, is within ~1e-8 of the exact rational solution (tests/test_macro_hp_filter.py).
    return solveh_banded(bands, series)


def one_sided_hp_trend(
    y: Sequence[float] | np.ndarray, lamb: float, min_obs: int, tail: int | None = None
) -> np.ndarray:
    """Real-time HP trend: element t is the last point of ``hp_trend(y[:t + 1], lamb)``.

    NaN for the first ``min_obs - 1`` elements, and, when ``tail`` is given, for all but the last ``tail``.
    """
    series = np.asarray(y, dtype=np.float64)
    trend = np.full(series.size, np.nan)
    first = min_obs - 1 if tail is None else max(min_obs - 1, series.size - tail)
    for t in range(max(first, 0), series.size):
        trend[t] = hp_trend(series[: t + 1], lamb)[-1]
    return trend


def one_sided_gap(
    y: Sequence[float] | np.ndarray, lamb: float = 400_000.0, min_obs: int = 12, tail: int | None = None
) -> np.ndarray:
    """The one-sided gap y - trend per point; NaN where the trend is (see ``one_sided_hp_trend``)."""
    series = np.asarray(y, dtype=np.float64)
    return series - one_sided_hp_trend(series, lamb, min_obs, tail)
