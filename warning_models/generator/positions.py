"""The bank's trading-book holdings: two portfolios over the market simulator's instruments.

- ``TRADING``: the equities, long most of them and short one or two, gross market value ~100 m;
- ``TREASURY``: the bonds, long only, ~200 m.

Each portfolio has fixed target weights (drawn once). On the span's first trading day and on the first
trading day of each month the quantities are reset so that market values hit the targets at that day's
closes (whole units); in between the quantities stay constant and the values drift with the prices.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from warning_models.generator.market import MarketSimulator
from warning_models.generator.span import Span
from warning_models.generator.writer import Batch, fmt_fixed

TRADING = "TRADING"
TREASURY = "TREASURY"


@dataclass(frozen=True)
class PortfolioParams:
    trading_gross: float = 100e6
    treasury_gross: float = 200e6
    short_share: tuple[float, float] = (0.08, 0.2)  # of the trading book's gross in the short names
    weight_spread: tuple[float, float] = (0.5, 1.5)  # relative size of one name before normalising


@dataclass(frozen=True)
class Portfolio:
    portfolio_id: str
    instrument_index: np.ndarray  # into MarketSimulator.instrument_ids
    target_value: np.ndarray  # signed currency amount per instrument at each rebalance


class PortfolioSimulator:
    """Quantities per portfolio and instrument on every trading day of the span, set up front."""

    def __init__(
        self, span: Span, market: MarketSimulator, rng: np.random.Generator, params: PortfolioParams | None = None
    ):
        p = self.params = params or PortfolioParams()
        self.span = span
        self.market = market
        ids = market.instrument_ids
        equities = np.array([i for i, x in enumerate(ids) if x.startswith("EQ")], dtype=np.int64)
        bonds = np.array([i for i, x in enumerate(ids) if x.startswith("BD")], dtype=np.int64)
        self.portfolios: list[Portfolio] = []
        if len(equities):
            n_short = 0 if len(equities) < 3 else (1 if len(equities) < 6 else int(rng.integers(1, 3)))
            short = np.zeros(len(equities), dtype=bool)
            short[rng.choice(len(equities), size=n_short, replace=False)] = True
            size = rng.uniform(*p.weight_spread, len(equities))
            short_gross = rng.uniform(*p.short_share) if n_short else 0.0
            weight = size / size[~short].sum() * (1 - short_gross)
            if n_short:
                weight[short] = -size[short] / size[short].sum() * short_gross
            self.portfolios.append(Portfolio(TRADING, equities, weight * p.trading_gross))
        if len(bonds):
            size = rng.uniform(*p.weight_spread, len(bonds))
            self.portfolios.append(Portfolio(TREASURY, bonds, size / size.sum() * p.treasury_gross))
        self.portfolios.sort(key=lambda pf: pf.portfolio_id)
        # rebalance days: the span's first trading day and the first trading day of each month
        self.rebalance_days: list[dt.date] = []
        seen: set[tuple[int, int]] = set()
        for day in span.trading_days:
            if (day.year, day.month) not in seen:
                seen.add((day.year, day.month))
                self.rebalance_days.append(day)
        rebalance = set(self.rebalance_days)
        self._quantities: dict[dt.date, list[np.ndarray]] = {}
        current: list[np.ndarray] = []
        for day in span.trading_days:
            if day in rebalance:
                closes = market.closes(day)
                assert closes is not None
                current = [np.round(pf.target_value / closes[pf.instrument_index]) for pf in self.portfolios]
            self._quantities[day] = current

    def quantities(self, day: dt.date) -> dict[tuple[str, str], float]:
        """Units held at a trading day's close per (portfolio, instrument); empty on other days."""
        held = self._quantities.get(day)
        if held is None:
            return {}
        ids = self.market.instrument_ids
        return {
            (pf.portfolio_id, ids[i]): float(q)
            for pf, qs in zip(self.portfolios, held)
            for i, q in zip(pf.instrument_index.tolist(), qs.tolist())
        }

    def positions(self, day: dt.date) -> Batch | None:
        """The day's holdings (rows by portfolio, then instrument), or None when it is not a trading day."""
        if day not in self._quantities:
            return None
        rows = sorted(self.quantities(day).items())
        iso = day.isoformat()
        return {
            "portfolio_id": [k[0] for k, _ in rows],
            "instrument_id": [k[1] for k, _ in rows],
            "position_date": [iso] * len(rows),
            "quantity": fmt_fixed(np.array([q for _, q in rows]), 0),
        }
