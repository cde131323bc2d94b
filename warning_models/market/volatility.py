"""RiskMetrics EWMA volatility of daily simple returns.

Index conventions (``r`` = returns, ``n = len(r)``):

* ``ewma_variance(r)[t]`` is the variance *after* observing ``r[t]``, i.e. the forecast for day ``t + 1``.
* ``ewma_forecast_sigma(r)[t]`` is the volatility forecast *for* day ``t``, made with ``r[:t]`` only;
  element 0 is the seed and element ``n`` is the forecast for the day after the last return.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.signal import lfilter

__all__ = ["as_returns", "ewma_forecast_sigma", "ewma_seed_variance", "ewma_variance"]


def as_returns(returns: ArrayLike, name: str = "returns") -> np.ndarray:
    """Return ``returns`` as a non-empty, finite, one-dimensional float array, or raise ``ValueError``."""
    r = np.asarray(returns, dtype=float)
    if r.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {r.shape}")
    if r.size == 0:
        raise ValueError(f"{name} is empty")
    if not np.all(np.isfinite(r)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return r


def _check_ewma_args(lam: float, seed_returns: int) -> None:
    if not 0.0 < lam < 1.0:
        raise ValueError(f"lam must be in (0, 1), got {lam}")
    if int(seed_returns) != seed_returns or seed_returns < 1:
        raise ValueError(f"seed_returns must be a positive integer, got {seed_returns}")


def ewma_seed_variance(returns: ArrayLike, seed_returns: int = 30) -> float:
    """The starting variance ``s2_{-1} = mean(r[:seed_returns] ** 2)`` (fewer returns if the series is shorter)."""
    r = as_returns(returns)
    _check_ewma_args(0.5, seed_returns)
    return float(np.mean(r[: int(seed_returns)] ** 2))


def ewma_variance(returns: ArrayLike, lam: float = 0.94, seed_returns: int = 30) -> np.ndarray:
    """RiskMetrics EWMA variance after each return.

    ``s2_t = lam * s2_{t-1} + (1 - lam) * r_t**2`` with ``s2_{-1} = mean(r[:seed_returns]**2)``.

    Parameters
    ----------
    returns : array_like
        Daily simple returns as fractions, oldest first.
    lam : float
        Decay factor in (0, 1); 0.94 is the RiskMetrics daily value.
    seed_returns : int
        Number of leading returns whose mean square seeds the recursion.

    Returns
    -------
    numpy.ndarray
        ``len(returns)`` variances; element ``t`` uses ``r[0..t]`` (plus the seed) and is the forecast
        for day ``t + 1``. Same semantics as ``warning_models.indicators.market_regime.ewma_variance``.
    """
    r = as_returns(returns)
    _check_ewma_args(lam, seed_returns)
    seed = float(np.mean(r[: int(seed_returns)] ** 2))
    # Direct-form filter of y_t = (1 - lam) x_t + lam y_{t-1}, y_{-1} = seed: the recursion without a Python loop.
    return lfilter([1.0 - lam], [1.0, -lam], r * r, zi=[lam * seed])[0]


def ewma_forecast_sigma(returns: ArrayLike, lam: float = 0.94, seed_returns: int = 30) -> np.ndarray:
    """EWMA volatility forecast for each day, made with the returns strictly before it.

    Returns
    -------
    numpy.ndarray
        ``len(returns) + 1`` standard deviations. Element ``t`` is the forecast for day ``t`` from
        ``r[:t]``: element 0 is ``sqrt(mean(r[:seed_returns]**2))`` (the seed), element ``t >= 1`` is
        ``sqrt(ewma_variance(r)[t - 1])``, and the last element is the forecast for the day after the
        last return. (The seed itself looks at the first ``seed_returns`` returns, so forecasts for days
        ``t < seed_returns`` are not strictly out of sample.)
    """
    r = as_returns(returns)
    _check_ewma_args(lam, seed_returns)
    s2 = np.empty(r.size + 1)
    s2[0] = np.mean(r[: int(seed_returns)] ** 2)
    s2[1:] = ewma_variance(r, lam, seed_returns)
    return np.sqrt(s2)
