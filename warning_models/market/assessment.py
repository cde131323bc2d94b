"""VaR, ES and their backtest for one return series (an instrument, the index or a trading portfolio).

A series is assessed for one method and confidence level: the forecast for the day after its last return,
the out-of-sample forecasts of the backtest window (each made with returns before its day only), how the
forecast for the last day turned out, and the backtest over the window ending on the last day and over the
one ending the day before (so a traffic light that *turned* can be told from one that stays).

A trading portfolio's forecasts apply the holdings in force at each forecast's close to the instruments'
past returns (historical simulation of today's book), and its realised returns are the hypothetical P&L of
those holdings (``marts.fct_portfolio_days``), the Basel backtesting basis.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from warning_models.market.backtest import BacktestSummary, backtest_summary
from warning_models.market.var import VarMethod, rolling_forecasts, var_es
from warning_models.market.volatility import ewma_forecast_sigma


@dataclass(frozen=True)
class VarSettings:
    window_days: int  # quantile sample of the simulation methods
    backtest_days: int  # the backtest window (Basel: 250)
    min_backtest_days: int  # a shorter history gets no backtest
    ewma_lambda: float
    ewma_seed_returns: int


@dataclass(frozen=True)
class Assessment:
    """One series, method and level on its last day."""

    method: VarMethod
    level: float
    last_date: dt.date
    var: float  # forecast for the next trading day, positive loss fraction
    es: float
    ewma_sigma: float  # EWMA volatility forecast for the next trading day
    previous_var: float | None  # the forecast for last_date, made the trading day before
    realised: float | None  # the return on last_date
    is_exception: bool | None
    backtest: BacktestSummary | None  # window ending on last_date
    backtest_before: BacktestSummary | None  # window ending the trading day before
    window_dates: tuple[dt.date, dt.date] | None  # first and last day of `backtest`


def _backtests(
    realised: np.ndarray, forecasts: np.ndarray, level: float, settings: VarSettings
) -> tuple[BacktestSummary | None, BacktestSummary | None]:
    usable = int(np.sum(np.isfinite(realised) & np.isfinite(forecasts)))
    window = min(settings.backtest_days, usable - 1)
    if window < settings.min_backtest_days:
        return None, None
    return (
        backtest_summary(realised, forecasts, level, window),
        backtest_summary(realised[:-1], forecasts[:-1], level, window),
    )


def _assessment(
    dates: list[dt.date],
    realised: np.ndarray,
    forecasts: np.ndarray,
    method: VarMethod,
    level: float,
    tomorrow: tuple[float, float, float],
    settings: VarSettings,
) -> Assessment:
    now, before = _backtests(realised, forecasts, level, settings)
    previous = float(forecasts[-1]) if np.isfinite(forecasts[-1]) else None
    last = float(realised[-1]) if np.isfinite(realised[-1]) else None
    is_exception = None if previous is None or last is None else bool(last < -previous)
    window_dates = (dates[now.start], dates[now.end - 1]) if now is not None else None
    var, es, sigma = tomorrow
    return Assessment(method, level, dates[-1], var, es, sigma, previous, last, is_exception, now, before, window_dates)


def _first_forecast(n: int, settings: VarSettings) -> int | None:
    """First day to forecast so the backtest (and the one of the day before) can fill its window."""
    earliest = max(settings.window_days, settings.ewma_seed_returns)
    if n <= earliest:
        return None
    return max(earliest, n - settings.backtest_days - 1)


def assess_series(
    dates: list[dt.date], returns: np.ndarray, method: VarMethod, level: float, settings: VarSettings
) -> Assessment | None:
    """Assess a return series (oldest first, no gaps); None when shorter than the VaR window."""
    r = np.asarray(returns, dtype=float)
    if r.size < max(settings.window_days, settings.ewma_seed_returns):
        return None
    tomorrow = var_es(r, method, level, settings.window_days, settings.ewma_lambda, settings.ewma_seed_returns)
    sigma = float(ewma_forecast_sigma(r, settings.ewma_lambda, settings.ewma_seed_returns)[-1])
    first = _first_forecast(r.size, settings)
    if first is None:
        forecasts = np.full(r.size, np.nan)
    else:
        forecasts, _ = rolling_forecasts(
            r, method, level, settings.window_days, settings.ewma_lambda, settings.ewma_seed_returns, first=first
        )
    return _assessment(dates, r, forecasts, method, level, (tomorrow.var, tomorrow.es, sigma), settings)


def assess_portfolio(
    instrument_returns: pd.DataFrame,
    weights: pd.DataFrame,
    realised: pd.Series,
    method: VarMethod,
    level: float,
    settings: VarSettings,
) -> Assessment | None:
    """Assess a trading portfolio.

    ``instrument_returns``: simple returns, trading days x instruments (a missing return counts as 0).
    ``weights``: per day the portfolio held something, the holdings' market values at that day's close over
    its gross exposure (days x instruments). ``realised``: hypothetical returns by day (the previous day's
    holdings over the day). The forecast for a day applies the weights held at the previous holding day's
    close to the returns up to that close.
    """
    returns = instrument_returns.reindex(columns=weights.columns).fillna(0.0)
    days = list(weights.index)
    if not days:
        return None

    def forecast(held_on: dt.date) -> tuple[float, float, float] | None:
        history = returns.loc[:held_on].to_numpy() @ weights.loc[held_on].to_numpy()
        if history.size < max(settings.window_days, settings.ewma_seed_returns):
            return None
        est = var_es(history, method, level, settings.window_days, settings.ewma_lambda, settings.ewma_seed_returns)
        sigma = float(ewma_forecast_sigma(history, settings.ewma_lambda, settings.ewma_seed_returns)[-1])
        return est.var, est.es, sigma

    tomorrow = forecast(days[-1])
    if tomorrow is None:
        return None
    first_outcome = max(1, len(days) - settings.backtest_days - 1)
    outcome_days = days[first_outcome:]
    forecasts = np.full(len(outcome_days), np.nan)
    for i in range(len(outcome_days)):
        made = forecast(days[first_outcome + i - 1])  # the holdings of the previous holding day
        if made is not None:
            forecasts[i] = made[0]
    outcomes = realised.reindex(outcome_days).to_numpy(dtype=float)
    if not outcome_days:
        outcomes, forecasts, outcome_days = np.array([np.nan]), np.array([np.nan]), [days[-1]]
    return _assessment(list(outcome_days), outcomes, forecasts, method, level, tomorrow, settings)
