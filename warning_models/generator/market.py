"""Closing prices of the bank's instruments: a one-factor model with one market-wide stress period.

Log return of instrument i on trading day t: beta_i * m_t + e_it. The market return m_t has sigma ~0.9 %/day,
except in the stress period (25-35 trading days in the second half of the span, at least 70 trading days
after its start when the span allows) where sigma is ~3 %/day with a negative drift. The truth's episode runs
from the period's first to its last day; its event is the trough (the day the market's fall is deepest), the
day a warning should come before.

Before the span lie ``history_trading_days`` calm trading days (same calendar and model, no stress; the
market's sigma varies slowly around ~0.9 %/day and returns to it at the span), delivered once as
``market_price_history`` on the span's first day. The span's first trading day closes at the start prices
and the history leads into it, so the two join without a jump. The history is drawn after every draw of the
span, so the span's prices do not depend on its length.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from warning_models.contract import is_trading_day
from warning_models.generator.span import Span
from warning_models.generator.truth import Domain, EntityType, Episode, EpisodeKind
from warning_models.generator.writer import Batch, fmt_fixed


@dataclass(frozen=True)
class MarketParams:
    bond_share: float = 0.17  # a few bonds (BDnn) among equities (EQnn)
    normal_sigma_pct: float = 0.9
    normal_drift_pct: float = 0.03
    stress_sigma_pct: float = 3.0
    stress_drift_pct: float = -0.6
    stress_fall_pct: tuple[float, float] = (10.0, 40.0)  # market log-return fall over the stress period
    stress_days_min: int = 25
    stress_days_max: int = 35
    stress_earliest_trading_day: int = 70
    equity_beta: tuple[float, float] = (0.6, 1.4)
    equity_idio_sigma_pct: tuple[float, float] = (0.8, 2.0)
    bond_beta: tuple[float, float] = (0.05, 0.2)
    bond_idio_sigma_pct: tuple[float, float] = (0.15, 0.35)
    start_price: tuple[float, float] = (20.0, 200.0)
    bond_start_price: tuple[float, float] = (85.0, 115.0)
    history_trading_days: int = 520  # calm trading days before the span (about two years)
    history_vol_persistence: float = 0.985  # AR(1) of the log of the market's sigma in the history
    history_vol_shock: float = 0.03
    history_vol_band: float = 0.4  # |log(sigma / normal sigma)| at most this


@dataclass(frozen=True)
class StressPeriod:
    first_index: int  # index into the span's trading days
    length: int


def place_stress(n_trading_days: int, rng: np.random.Generator, params: MarketParams) -> StressPeriod | None:
    """25-35 trading days in the second half of the span, >= 70 trading days in; shrunk to fit short spans."""
    if n_trading_days < 3:
        return None
    length = int(rng.integers(params.stress_days_min, params.stress_days_max + 1))
    length = min(length, max(2, n_trading_days // 3))
    earliest = max(params.stress_earliest_trading_day, n_trading_days // 2)
    latest = n_trading_days - length
    earliest = min(earliest, latest)
    first = int(rng.integers(earliest, latest + 1))
    return StressPeriod(first, length)


def history_trading_days(before: dt.date, n: int) -> tuple[dt.date, ...]:
    """The last ``n`` trading days strictly before a date, oldest first."""
    days: list[dt.date] = []
    day = before
    while len(days) < n:
        day -= dt.timedelta(days=1)
        if is_trading_day(day):
            days.append(day)
    return tuple(reversed(days))


class MarketSimulator:
    """Prices of every instrument on every trading day of the span, drawn up front."""

    def __init__(self, span: Span, n_instruments: int, rng: np.random.Generator, params: MarketParams | None = None):
        p = self.params = params or MarketParams()
        self.span = span
        n_bonds = min(max(1, round(n_instruments * p.bond_share)), n_instruments - 1) if n_instruments > 1 else 0
        n_equities = n_instruments - n_bonds
        self.instrument_ids = [f"EQ{i:02d}" for i in range(1, n_equities + 1)] + [
            f"BD{i:02d}" for i in range(1, n_bonds + 1)
        ]
        is_bond = np.array([False] * n_equities + [True] * n_bonds)
        days = span.trading_days
        self.stress = place_stress(len(days), rng, p)
        self.trough_index = 0  # set below when there is a stress period
        beta = np.where(is_bond, rng.uniform(*p.bond_beta, n_instruments), rng.uniform(*p.equity_beta, n_instruments))
        idio = np.where(
            is_bond,
            rng.uniform(*p.bond_idio_sigma_pct, n_instruments),
            rng.uniform(*p.equity_idio_sigma_pct, n_instruments),
        ) / 100
        start = np.where(
            is_bond, rng.uniform(*p.bond_start_price, n_instruments), rng.uniform(*p.start_price, n_instruments)
        )
        sigma = np.full(len(days), p.normal_sigma_pct / 100)
        drift = np.full(len(days), p.normal_drift_pct / 100)
        idio_scale = np.ones(len(days))
        s = slice(0, 0)
        if self.stress:
            s = slice(self.stress.first_index, self.stress.first_index + self.stress.length)
            sigma[s], drift[s], idio_scale[s] = p.stress_sigma_pct / 100, p.stress_drift_pct / 100, 1.5
        market = drift + sigma * rng.standard_normal(len(days))
        if self.stress:
            # a stress period is a drawdown: redraw its shocks until the market falls 10-40 % over it
            for _ in range(1_000):
                if p.stress_fall_pct[0] <= -100 * market[s].sum() <= p.stress_fall_pct[1]:
                    break
                market[s] = drift[s] + sigma[s] * rng.standard_normal(self.stress.length)
            # the stress's event is its trough: the day the market's fall over the period is deepest
            self.trough_index = self.stress.first_index + int(np.argmin(np.cumsum(market[s])))
        eps = rng.standard_normal((len(days), n_instruments)) * idio[None, :] * idio_scale[:, None]
        log_returns = market[:, None] * beta[None, :] + eps - 0.5 * idio[None, :] ** 2
        log_returns[:1] = 0.0  # the first trading day closes at the start prices
        self._prices = start[None, :] * np.exp(np.cumsum(log_returns, axis=0))
        self._row_of_day = {d: i for i, d in enumerate(days)}
        order = np.argsort(np.array(self.instrument_ids))
        self._order = order
        self.history_days = history_trading_days(span.start, p.history_trading_days)
        self._history = self._draw_history(rng, beta, idio, start)

    def _draw_history(
        self, rng: np.random.Generator, beta: np.ndarray, idio: np.ndarray, start: np.ndarray
    ) -> np.ndarray:
        """Closes on the history days: calm one-factor returns leading into the span's start prices."""
        p = self.params
        n = len(self.history_days)
        if n == 0:
            return np.zeros((0, len(start)))
        # log(sigma / normal sigma): a slow AR(1), bridged to 0 at the span so the volatility joins smoothly
        h = np.zeros(n)
        shocks = rng.normal(0.0, p.history_vol_shock, n)
        for t in range(1, n):
            h[t] = p.history_vol_persistence * h[t - 1] + shocks[t]
        h -= np.linspace(0.0, 1.0, n) * h[-1]
        h = np.clip(h, -p.history_vol_band, p.history_vol_band)
        sigma = p.normal_sigma_pct / 100 * np.exp(h)
        # returns into history day 1 .. n-1 and into the span's first trading day
        market = p.normal_drift_pct / 100 + np.r_[sigma[1:], p.normal_sigma_pct / 100] * rng.standard_normal(n)
        eps = rng.standard_normal((n, len(start))) * idio[None, :]
        log_returns = market[:, None] * beta[None, :] + eps - 0.5 * idio[None, :] ** 2
        # the close on history day k is the start price less every return after it
        after = np.cumsum(log_returns[::-1], axis=0)[::-1]
        return start[None, :] * np.exp(-after)

    def closes(self, day: dt.date) -> np.ndarray | None:
        """Closes of a span trading day in ``instrument_ids`` order (unrounded), or None."""
        row = self._row_of_day.get(day)
        return None if row is None else self._prices[row].copy()

    def price_history(self, day: dt.date) -> Batch | None:
        """Every close before the span, on the span's first day (rows by instrument, then date); else None."""
        if day != self.span.start or not self.history_days:
            return None
        n_days = len(self.history_days)
        isos = [d.isoformat() for d in self.history_days]
        return {
            "instrument_id": [self.instrument_ids[i] for i in self._order for _ in range(n_days)],
            "price_date": isos * len(self._order),
            "close_price": fmt_fixed(self._history[:, self._order].T.reshape(-1), 4),
        }

    def prices(self, day: dt.date) -> Batch | None:
        """The day's closes, or None when it is not a trading day."""
        row = self._row_of_day.get(day)
        if row is None:
            return None
        iso = day.isoformat()
        return {
            "instrument_id": [self.instrument_ids[i] for i in self._order],
            "price_date": [iso] * len(self._order),
            "close_price": fmt_fixed(self._prices[row, self._order], 4),
        }

    def episodes(self) -> list[Episode]:
        if not self.stress:
            return []
        days = self.span.trading_days
        first = days[self.stress.first_index]
        last = days[self.stress.first_index + self.stress.length - 1]
        trough = days[self.trough_index]
        return [
            Episode(
                episode_id="market-stress-1",
                domain=Domain.MARKET,
                kind=EpisodeKind.STRESS_PERIOD,
                entity_type=EntityType.MARKET,
                entity_id="MARKET",
                onset_date=first,
                event_date=trough,  # the lead time of a warning is measured to the market's trough
                end_date=last,
            )
        ]
