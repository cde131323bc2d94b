"""One-day value at risk (VaR) and expected shortfall (ES) of a daily return series.

Units: returns are simple returns as fractions (0.01 = 1 %). VaR and ES are reported as *positive loss
fractions*: ``var = 0.023`` means a one-day loss of 2.3 %. ``level`` is the confidence level (0.99, 0.975);
the tail probability is ``p = 1 - level``.

Quantile convention (historical and filtered historical simulation)
    Of ``N`` sample returns, the VaR return is the ``k``-th smallest with ``k = ceil(N * p)`` (at least 1):
    the empirical-distribution quantile (the smallest ``x`` with ``F_N(x) >= p``; ``np.quantile`` method
    ``"inverted_cdf"``). ``N * p`` is rounded to 9 decimals first, so ``250 * (1 - 0.99)`` gives ``k = 3``
    and ``100 * (1 - 0.99)`` gives ``k = 1`` despite binary rounding. Examples: 250 days at 99 % -> 3rd
    worst, 250 at 97.5 % -> 7th worst, 500 at 99 % -> 5th worst (Hull's convention).
ES convention
    ``ES = -mean`` of the ``k`` smallest returns, i.e. of the tail including the VaR observation (with
    ties at the VaR return, exactly ``k`` observations are averaged). So ``ES >= VaR`` always.

Methods
    ``historical``: the last ``window`` returns.
    ``filtered_historical`` (Hull-White / Barone-Adesi): standardised residuals ``z_s = r_s / sigma_s``
    over the last ``window`` days, ``sigma_s`` the EWMA forecast made the day before ``s``; VaR and ES of
    ``z`` as above, multiplied by the EWMA forecast ``sigma`` for the day ahead.
    ``parametric`` (RiskMetrics): normal with the EWMA ``sigma`` for the day ahead,
    ``VaR = z * sigma - mu``, ``ES = sigma * phi(z) / p - mu`` with ``z = Phi^{-1}(level)``; ``mu = 0``
    unless ``mean_zero=False``, then the mean of the last ``window`` returns.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import ArrayLike
from scipy.stats import norm

from warning_models.market.volatility import as_returns, ewma_forecast_sigma

__all__ = ["VarEstimate", "VarMethod", "rolling_forecasts", "tail_count", "var_es"]


class VarMethod(Enum):
    """How the return distribution of the day ahead is estimated."""

    HISTORICAL = "historical"
    FILTERED_HISTORICAL = "filtered_historical"
    PARAMETRIC = "parametric"


@dataclass(frozen=True)
class VarEstimate:
    """One-day VaR and ES forecast (positive loss fractions) for the day after the last return.

    ``n_obs`` is the number of returns behind the estimate: ``window`` for the two simulation methods
    (the quantile sample), ``len(returns)`` for ``parametric`` (the EWMA uses every return).
    """

    var: float
    es: float
    method: VarMethod
    level: float
    n_obs: int


def check_level(level: float) -> float:
    """Return ``level`` as a float if it lies strictly in (0, 1), else raise ``ValueError``."""
    level = float(level)
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be in (0, 1), got {level}")
    return level


def tail_count(n: int, level: float) -> int:
    """Number ``k = max(1, ceil(n * (1 - level)))`` of tail observations; the VaR return is the k-th smallest."""
    check_level(level)
    if n < 1:
        raise ValueError(f"n must be positive, got {n}")
    return max(1, math.ceil(round(n * (1.0 - level), 9)))


def _method(method: VarMethod | str) -> VarMethod:
    try:
        return VarMethod(method)
    except ValueError:
        allowed = ", ".join(m.value for m in VarMethod)
        raise ValueError(f"unknown VaR method {method!r}; expected one of {allowed}") from None


def _check_window(window: int, n: int) -> int:
    if int(window) != window or window < 1:
        raise ValueError(f"window must be a positive integer, got {window}")
    if window > n:
        raise ValueError(f"window ({window}) is longer than the data ({n} returns)")
    return int(window)


def _tail(samples: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Per row of ``samples``: (k-th smallest value, mean of the k smallest values)."""
    part = np.partition(samples, k - 1, axis=1)
    tail = np.sort(part[:, :k], axis=1)  # fixed order: the same sum whatever the partition left behind
    return tail[:, -1], tail.mean(axis=1)


def _forecasts(
    r: np.ndarray,
    method: VarMethod,
    level: float,
    window: int,
    lam: float,
    seed_returns: int,
    mean_zero: bool,
    days: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """VaR and ES for each day ``t`` in ``days`` (``window <= t <= len(r)``) from ``r[:t]`` only."""
    if method is VarMethod.HISTORICAL:
        q, m = _tail(sliding_window_view(r, window)[days - window], tail_count(window, level))
        return -q, -m
    sigma = ewma_forecast_sigma(r, lam, seed_returns)  # sigma[t]: forecast for day t from r[:t]
    if method is VarMethod.FILTERED_HISTORICAL:
        used = sigma[days[0] - window : days[-1] + 1]
        if np.any(used <= 0.0):
            raise ValueError("the EWMA volatility is zero (all returns so far are zero): cannot standardise")
        z = r / sigma[:-1]
        q, m = _tail(sliding_window_view(z, window)[days - window], tail_count(window, level))
        return -q * sigma[days], -m * sigma[days]
    zq = float(norm.ppf(level))
    mu = 0.0 if mean_zero else sliding_window_view(r, window)[days - window].mean(axis=1)
    s = sigma[days]
    return zq * s - mu, s * float(norm.pdf(zq)) / (1.0 - level) - mu


def var_es(
    returns: ArrayLike,
    method: VarMethod | str,
    level: float,
    window: int = 250,
    lam: float = 0.94,
    seed_returns: int = 30,
    mean_zero: bool = True,
) -> VarEstimate:
    """VaR and ES forecast for the day after the last return.

    Parameters
    ----------
    returns : array_like
        Daily simple returns (fractions), oldest first; finite, non-empty.
    method : VarMethod or str
        ``"historical"``, ``"filtered_historical"`` or ``"parametric"`` (see the module docstring).
    level : float
        Confidence level in (0, 1), e.g. 0.99.
    window : int
        Quantile sample (simulation methods) or mean sample (``parametric`` with ``mean_zero=False``):
        the last ``window`` returns. Must not exceed ``len(returns)`` when used.
    lam, seed_returns : float, int
        EWMA decay and seed length (see ``volatility.ewma_variance``).
    mean_zero : bool
        ``parametric`` only: ``mu = 0`` (RiskMetrics) or the mean of the last ``window`` returns.

    Returns
    -------
    VarEstimate
    """
    r = as_returns(returns)
    m = _method(method)
    level = check_level(level)
    uses_window = m is not VarMethod.PARAMETRIC or not mean_zero
    if uses_window:
        window = _check_window(window, r.size)
    var, es = _forecasts(r, m, level, window, lam, seed_returns, mean_zero, np.array([r.size]))
    n_obs = r.size if m is VarMethod.PARAMETRIC else window
    return VarEstimate(float(np.asarray(var).item()), float(np.asarray(es).item()), m, level, n_obs)


def rolling_forecasts(
    returns: ArrayLike,
    method: VarMethod | str,
    level: float,
    window: int = 250,
    lam: float = 0.94,
    seed_returns: int = 30,
    first: int | None = None,
    mean_zero: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Out-of-sample VaR and ES forecasts for every day ``t`` in ``range(first, len(returns))``.

    The forecast for day ``t`` uses ``returns[:t]`` only and equals
    ``var_es(returns[:t], method, level, window, lam, seed_returns, mean_zero)``.

    Parameters
    ----------
    first : int, optional
        First forecast day; default ``window``. Must satisfy ``max(window, seed_returns) <= first <
        len(returns)`` (``first >= seed_returns`` keeps the EWMA seed out of the future).

    Returns
    -------
    (var, es) : tuple of numpy.ndarray
        Arrays aligned with ``returns`` (element ``t`` is the forecast for day ``t``), NaN before ``first``.
    """
    r = as_returns(returns)
    m = _method(method)
    level = check_level(level)
    window = _check_window(window, r.size)
    first = window if first is None else first
    if int(first) != first or first < window:
        raise ValueError(f"first ({first}) must be an integer >= window ({window})")
    if first < seed_returns:
        raise ValueError(f"first ({first}) must be >= seed_returns ({seed_returns}): the seed would look ahead")
    if first >= r.size:
        raise ValueError(f"first ({first}) leaves no day to forecast in {r.size} returns")
    days = np.arange(int(first), r.size)
    var = np.full(r.size, np.nan)
    es = np.full(r.size, np.nan)
    var[days], es[days] = _forecasts(r, m, level, window, lam, seed_returns, mean_zero, days)
    return var, es
