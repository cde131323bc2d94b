"""Backtests of one-day VaR forecasts: exceptions, Kupiec, Christoffersen and the Basel traffic light.

An *exception* on day ``t`` is a loss beyond the VaR forecast for that day: ``r_t < -VaR_t`` (strict), with
``VaR_t`` a positive loss fraction as produced by ``warning_models.market.var``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import xlogy
from scipy.stats import binom, chi2

from warning_models.market.var import check_level

__all__ = [
    "BacktestSummary",
    "TestResult",
    "TrafficLight",
    "backtest_summary",
    "christoffersen_conditional_coverage",
    "christoffersen_independence",
    "exceptions",
    "kupiec_pof",
    "longest_run",
    "max_exceptions_in_any",
    "traffic_light",
    "transition_counts",
]

Zone = Literal["green", "yellow", "red"]

GREEN_BELOW = 0.95  # green while P(X <= x) < 0.95
YELLOW_BELOW = 0.9999  # yellow while P(X <= x) < 0.9999, red from there on
# Basel plus factor (add-on to the multiplier of 3) for 250 observations at 99 %, by number of exceptions.
BASEL_PLUS_FACTOR = {5: 0.40, 6: 0.50, 7: 0.65, 8: 0.75, 9: 0.85}


@dataclass(frozen=True)
class TestResult:
    """A likelihood-ratio test: statistic, chi-squared p-value and degrees of freedom."""

    __test__ = False  # not a pytest test class

    statistic: float
    p_value: float
    df: int


@dataclass(frozen=True)
class TrafficLight:
    """Basel traffic-light zone for a number of exceptions.

    ``cumulative_probability`` is the binomial ``P(X <= exceptions)`` under a correct model;
    ``plus_factor`` is the Basel multiplier add-on, defined only for 250 observations at 99 % (else None).
    """

    zone: Zone
    exceptions: int
    cumulative_probability: float
    plus_factor: float | None


@dataclass(frozen=True)
class BacktestSummary:
    """Backtest of the last ``n_obs`` days that have both a forecast and a realised return.

    ``start`` and ``end`` are positions in the input arrays (``end`` exclusive) of the first and one past
    the last day used; the days in between without a forecast are skipped.
    """

    n_obs: int
    exceptions: int
    expected_exceptions: float
    level: float
    kupiec: TestResult
    independence: TestResult
    conditional_coverage: TestResult
    traffic_light: TrafficLight
    exceptions_last_10_days: int  # among the last 10 days used
    max_exceptions_in_10_days: int  # most exceptions in any 10 consecutive days used
    longest_run: int  # longest streak of consecutive exceptions
    start: int
    end: int


def _flags(exception_series: ArrayLike) -> np.ndarray:
    """A non-empty 0/1 or boolean sequence as a boolean array, else ``ValueError``."""
    x = np.asarray(exception_series)
    if x.ndim != 1 or x.size == 0:
        raise ValueError("exception_series must be a non-empty one-dimensional sequence")
    if x.dtype != bool:
        if not np.all(np.isin(x, (0, 1))):
            raise ValueError("exception_series must contain only 0/1 or booleans")
        x = x.astype(bool)
    return x


def exceptions(realised_returns: ArrayLike, var_forecasts: ArrayLike) -> np.ndarray:
    """Boolean exception flags ``r_t < -VaR_t``.

    Days where either value is NaN are ``False`` (not counted as exceptions); drop them from the
    observation count yourself, or use ``backtest_summary`` which does.
    """
    r = np.asarray(realised_returns, dtype=float)
    v = np.asarray(var_forecasts, dtype=float)
    if r.shape != v.shape or r.ndim != 1:
        raise ValueError(f"realised_returns {r.shape} and var_forecasts {v.shape} must be 1-D of equal length")
    if r.size == 0:
        raise ValueError("realised_returns is empty")
    with np.errstate(invalid="ignore"):
        return r < -v  # any comparison with NaN is False


def _chi2_result(statistic: float, df: int) -> TestResult:
    statistic = max(float(statistic), 0.0)  # a likelihood ratio is >= 0; clip rounding noise
    return TestResult(statistic, float(chi2.sf(statistic, df)), df)


def _pof_statistic(x: int, t: int, p: float) -> float:
    phat = x / t
    restricted = xlogy(t - x, 1.0 - p) + xlogy(x, p)
    unrestricted = xlogy(t - x, 1.0 - phat) + xlogy(x, phat)  # 0 * log 0 = 0 at x = 0 and x = t
    return -2.0 * restricted + 2.0 * unrestricted


def kupiec_pof(n_exceptions: int, n_obs: int, level: float) -> TestResult:
    """Kupiec proportion-of-failures test, chi-squared with 1 degree of freedom.

    ``LR = -2 ln[(1-p)^(T-x) p^x] + 2 ln[(1-x/T)^(T-x) (x/T)^x]`` with ``p = 1 - level``,
    ``x = n_exceptions``, ``T = n_obs`` and ``0 * ln 0 = 0``.
    """
    p = 1.0 - check_level(level)
    if int(n_obs) != n_obs or n_obs < 1:
        raise ValueError(f"n_obs must be a positive integer, got {n_obs}")
    if int(n_exceptions) != n_exceptions or not 0 <= n_exceptions <= n_obs:
        raise ValueError(f"n_exceptions must be an integer in [0, n_obs={n_obs}], got {n_exceptions}")
    return _chi2_result(_pof_statistic(int(n_exceptions), int(n_obs), p), 1)


def transition_counts(exception_series: ArrayLike) -> tuple[int, int, int, int]:
    """``(n00, n01, n10, n11)``: ``n_ij`` = days ``t >= 1`` with state ``i`` on ``t - 1`` and ``j`` on ``t``."""
    x = _flags(exception_series)
    prev, cur = x[:-1], x[1:]
    return (
        int(np.sum(~prev & ~cur)),
        int(np.sum(~prev & cur)),
        int(np.sum(prev & ~cur)),
        int(np.sum(prev & cur)),
    )


def christoffersen_independence(exception_series: ArrayLike) -> TestResult:
    """Christoffersen (1998) test of independence of exceptions, chi-squared with 1 degree of freedom.

    From the transition counts (``transition_counts``, over the ``T - 1`` pairs of consecutive days),
    ``pi0 = n01 / (n00 + n01)``, ``pi1 = n11 / (n10 + n11)``, ``pi = (n01 + n11) / (T - 1)``::

        LR_ind = -2 [(n00 + n10) ln(1 - pi) + (n01 + n11) ln pi]
                 + 2 [n00 ln(1 - pi0) + n01 ln pi0 + n10 ln(1 - pi1) + n11 ln pi1]

    with ``0 * ln 0 = 0``. An empty row (no day in state ``i`` before the last day) contributes nothing.
    The statistic is therefore 0 when there is no exception after the first day (``n01 + n11 = 0``) or
    when the series never leaves one state. Needs at least 2 observations.
    """
    n00, n01, n10, n11 = transition_counts(exception_series)
    pairs = n00 + n01 + n10 + n11
    if pairs < 1:
        raise ValueError("the independence test needs at least 2 observations")
    pi = (n01 + n11) / pairs
    pi0 = n01 / (n00 + n01) if n00 + n01 else 0.0
    pi1 = n11 / (n10 + n11) if n10 + n11 else 0.0
    restricted = xlogy(n00 + n10, 1.0 - pi) + xlogy(n01 + n11, pi)
    unrestricted = xlogy(n00, 1.0 - pi0) + xlogy(n01, pi0) + xlogy(n10, 1.0 - pi1) + xlogy(n11, pi1)
    return _chi2_result(-2.0 * restricted + 2.0 * unrestricted, 1)


def christoffersen_conditional_coverage(exception_series: ArrayLike, level: float) -> TestResult:
    """Conditional coverage ``LR_cc = LR_pof + LR_ind``, chi-squared with 2 degrees of freedom.

    Convention: ``LR_pof`` is Kupiec's statistic on all ``T`` observations (``x`` = all exceptions),
    ``LR_ind`` the independence statistic on the ``T - 1`` transitions. (Christoffersen's exact
    likelihood-ratio form would compute the unconditional part on the ``T - 1`` days after the first
    too; the two differ by at most one day.)
    """
    x = _flags(exception_series)
    pof = kupiec_pof(int(x.sum()), x.size, level)
    ind = christoffersen_independence(x)
    return _chi2_result(pof.statistic + ind.statistic, 2)


def traffic_light(n_exceptions: int, n_obs: int = 250, level: float = 0.99) -> TrafficLight:
    """Basel traffic-light zone from the binomial ``P(X <= n_exceptions)``, ``X ~ Bin(n_obs, 1 - level)``.

    Green while that probability is below 0.95, yellow while below 0.9999, red otherwise; for 250
    observations at 99 % this gives green 0-4, yellow 5-9, red 10 and more. The plus factor follows the
    Basel table (0-4: 0, 5: 0.40, 6: 0.50, 7: 0.65, 8: 0.75, 9: 0.85, 10+: 1.00) and is None for any
    other ``n_obs`` or ``level``.
    """
    p = 1.0 - check_level(level)
    if int(n_obs) != n_obs or n_obs < 1:
        raise ValueError(f"n_obs must be a positive integer, got {n_obs}")
    if int(n_exceptions) != n_exceptions or not 0 <= n_exceptions <= n_obs:
        raise ValueError(f"n_exceptions must be an integer in [0, n_obs={n_obs}], got {n_exceptions}")
    x = int(n_exceptions)
    cumulative = float(binom.cdf(x, int(n_obs), p))
    zone: Zone = "green" if cumulative < GREEN_BELOW else "yellow" if cumulative < YELLOW_BELOW else "red"
    plus: float | None = None
    if n_obs == 250 and np.isclose(level, 0.99, rtol=0.0, atol=1e-12):
        plus = 0.0 if x <= 4 else BASEL_PLUS_FACTOR.get(x, 1.0)
    return TrafficLight(zone, x, cumulative, plus)


def max_exceptions_in_any(exception_series: ArrayLike, window_days: int = 10) -> int:
    """Most exceptions in any ``window_days`` consecutive observations (all of them if the series is shorter)."""
    x = _flags(exception_series).astype(int)
    if int(window_days) != window_days or window_days < 1:
        raise ValueError(f"window_days must be a positive integer, got {window_days}")
    if x.size <= window_days:
        return int(x.sum())
    c = np.concatenate(([0], np.cumsum(x)))
    return int(np.max(c[window_days:] - c[:-window_days]))


def longest_run(exception_series: ArrayLike) -> int:
    """Length of the longest streak of consecutive exceptions (0 if there is none)."""
    x = _flags(exception_series).astype(np.int8)
    edges = np.diff(np.concatenate(([0], x, [0])))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return int(np.max(ends - starts)) if starts.size else 0


def backtest_summary(
    realised: ArrayLike, var_forecasts: ArrayLike, level: float, window: int = 250
) -> BacktestSummary:
    """Backtest the last ``window`` days that have a finite forecast and a finite realised return.

    Raises ``ValueError`` when fewer than ``window`` such days exist. The traffic light uses
    ``n_obs = window`` (so the Basel plus factor is available only for ``window = 250``, ``level = 0.99``).
    """
    r = np.asarray(realised, dtype=float)
    v = np.asarray(var_forecasts, dtype=float)
    level = check_level(level)
    if int(window) != window or window < 2:
        raise ValueError(f"window must be an integer >= 2, got {window}")
    flags = exceptions(r, v)
    usable = np.flatnonzero(np.isfinite(r) & np.isfinite(v))
    if usable.size < window:
        raise ValueError(f"window ({window}) is longer than the data ({usable.size} days with a forecast)")
    days = usable[-int(window):]
    x = flags[days]
    n, k = x.size, int(x.sum())
    return BacktestSummary(
        n_obs=n,
        exceptions=k,
        expected_exceptions=n * (1.0 - level),
        level=level,
        kupiec=kupiec_pof(k, n, level),
        independence=christoffersen_independence(x),
        conditional_coverage=christoffersen_conditional_coverage(x, level),
        traffic_light=traffic_light(k, n, level),
        exceptions_last_10_days=int(x[-10:].sum()),
        max_exceptions_in_10_days=max_exceptions_in_any(x, 10),
        longest_run=longest_run(x),
        start=int(days[0]),
        end=int(days[-1]) + 1,
    )
