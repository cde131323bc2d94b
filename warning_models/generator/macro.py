"""Quarterly macro-financial series: private credit (stock) and nominal GDP (quarterly flow), in billions.

Economies XA, XB, ... publish both series quarterly from 1995-03-31; a quarter's figures are published 45 days
after the quarter ends. The credit-to-GDP ratio (credit / sum of the last four quarters of GDP) of normal
economies drifts slowly around a trend; one economy (XC when there are three or more) has a credit boom of
10-12 quarters, +3-4 pp a quarter, up to the last quarter published in the span, and a crisis dated one or
two quarters after the span. Normal economies are redrawn until their one-sided HP gap (lambda 400,000)
stays below 1.8 pp over the span, so the boom is the only credit-gap signal.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from warning_models.generator.span import Span
from warning_models.generator.truth import Domain, EntityType, Episode, EpisodeKind
from warning_models.generator.writer import Batch, fmt_fixed

HP_LAMBDA = 400_000.0
CREDIT_MEASURE = "CREDIT_PRIVATE"
GDP_MEASURE = "GDP_NOMINAL"
FIRST_PUBLISHED_QUARTER_END = dt.date(1995, 3, 31)
PRE_HISTORY_QUARTERS = 3  # unpublished GDP quarters so the first published quarter has a 4-quarter sum


@dataclass(frozen=True)
class MacroParams:
    publication_lag_days: int = 45
    boom_quarters: tuple[int, int] = (10, 12)
    boom_step_pp: tuple[float, float] = (3.0, 4.0)
    crisis_quarters_after_span: tuple[int, int] = (1, 2)
    normal_gap_limit_pp: float = 1.8
    boom_gap_floor_pp: float = 10.0
    max_redraws: int = 200


def quarter_end(year: int, quarter: int) -> dt.date:
    """Last day of a quarter (quarter 1..4)."""
    month = 3 * quarter
    first_next = dt.date(year + (month == 12), month % 12 + 1, 1)
    return first_next - dt.timedelta(days=1)


def shift_quarters(day: dt.date, quarters: int) -> dt.date:
    """Quarter end ``quarters`` after the end of the quarter containing ``day``."""
    index = day.year * 4 + (day.month - 1) // 3 + quarters
    return quarter_end(index // 4, index % 4 + 1)


def hp_trend(y: np.ndarray, lam: float = HP_LAMBDA) -> np.ndarray:
    """Two-sided Hodrick-Prescott trend."""
    n = len(y)
    if n < 3:
        return np.asarray(y, dtype=np.float64).copy()
    d = np.zeros((n - 2, n))
    idx = np.arange(n - 2)
    d[idx, idx], d[idx, idx + 1], d[idx, idx + 2] = 1.0, -2.0, 1.0
    return np.linalg.solve(np.eye(n) + lam * d.T @ d, np.asarray(y, dtype=np.float64))


def one_sided_hp_gap(y: np.ndarray, at: list[int], lam: float = HP_LAMBDA) -> np.ndarray:
    """Gap at each index in ``at`` using only observations up to it (the Basel credit-gap convention)."""
    return np.array([y[t] - hp_trend(y[: t + 1], lam)[-1] for t in at])


@dataclass(frozen=True)
class Economy:
    code: str
    credit_bn: np.ndarray  # per published quarter
    gdp_bn: np.ndarray  # per published quarter
    ratio_pct: np.ndarray  # credit / 4-quarter GDP, per published quarter


class MacroSimulator:
    """All quarters up to the last one published in the span, and the dates they are published."""

    def __init__(self, span: Span, n_economies: int, rng: np.random.Generator, params: MacroParams | None = None):
        p = self.params = params or MacroParams()
        self.span = span
        self.rng = rng
        lag = dt.timedelta(days=p.publication_lag_days)
        quarters: list[dt.date] = []
        y, q = FIRST_PUBLISHED_QUARTER_END.year, 1
        while quarter_end(y, q) + lag <= span.end:
            quarters.append(quarter_end(y, q))
            y, q = (y + 1, 1) if q == 4 else (y, q + 1)
        self.quarters = quarters
        self.publication = [qe + lag for qe in quarters]
        n_q = len(quarters)
        # quarters the warehouse can see at the span start and after each publication in the span
        visible_at_start = sum(pub <= span.start for pub in self.publication)
        in_span = {i for i, pub in enumerate(self.publication) if pub > span.start}
        self._span_last_indices = sorted(i for i in {visible_at_start - 1} | in_span if i >= 0)
        self.boom_index = min(2, n_economies - 1)
        self.boom_quarters = int(rng.integers(p.boom_quarters[0], p.boom_quarters[1] + 1))
        self.boom_start = max(n_q - self.boom_quarters, 0)
        lo, hi = p.crisis_quarters_after_span
        self.crisis_date = shift_quarters(span.end, int(rng.integers(lo, hi + 1)))
        self.economies = [self._economy(i, n_q) for i in range(n_economies)]

    def _gdp(self, n_q: int) -> np.ndarray:
        """Quarterly nominal GDP flow, including the unpublished pre-history quarters."""
        rng = self.rng
        n = n_q + PRE_HISTORY_QUARTERS
        growth = rng.normal(0.012, 0.005, n)
        first = (FIRST_PUBLISHED_QUARTER_END.year * 4) - PRE_HISTORY_QUARTERS  # quarter index of element 0
        shocks = {(2008, 4): -0.025, (2009, 1): -0.02, (2009, 2): -0.005, (2020, 2): -0.09, (2020, 3): 0.085}
        for i in range(n):
            growth[i] += shocks.get(((first + i) // 4, (first + i) % 4 + 1), 0.0)
        growth[0] = 0.0
        return rng.uniform(40, 600) * np.exp(np.cumsum(growth))

    def _ratio(self, n_q: int, boom: bool) -> np.ndarray:
        """Credit-to-GDP in percent: trend + slow cycle + AR(1) noise (+ the boom at the end)."""
        rng = self.rng
        t = np.arange(n_q, dtype=np.float64)
        base = rng.uniform(60, 140)
        slope = rng.uniform(-0.3, 0.6) / 4
        amp, period, phase = rng.uniform(0.4, 1.1), rng.uniform(28, 48), rng.uniform(0, 2 * np.pi)
        noise = np.zeros(n_q)
        shocks = rng.normal(0, 0.2, n_q)
        for i in range(1, n_q):
            noise[i] = 0.7 * noise[i - 1] + shocks[i]
        ratio = base + slope * t + amp * np.sin(2 * np.pi * t / period + phase) + noise
        if boom and n_q:
            steps = rng.uniform(*self.params.boom_step_pp, n_q - self.boom_start)
            ratio[self.boom_start :] += np.cumsum(steps)
        return ratio

    def _economy(self, index: int, n_q: int) -> Economy:
        """Draw an economy; redraw a normal one whose credit gap over the span is not quiet."""
        p = self.params
        boom = index == self.boom_index
        # the ratio the warehouse can compute starts with the fourth published quarter
        check = [i - 3 for i in self._span_last_indices if i >= 3]
        for _ in range(p.max_redraws):
            gdp_all = self._gdp(n_q)
            ratio = self._ratio(n_q, boom)
            gdp4 = np.convolve(gdp_all, np.ones(4), mode="valid")  # 4-quarter sums ending at each published quarter
            if not check:
                break
            gap = one_sided_hp_gap(ratio[3:], check)
            if (boom and gap.max() > p.boom_gap_floor_pp) or (not boom and np.abs(gap).max() < p.normal_gap_limit_pp):
                break
        return Economy(
            code=f"X{chr(ord('A') + index)}",
            credit_bn=ratio / 100 * gdp4,
            gdp_bn=gdp_all[PRE_HISTORY_QUARTERS:],
            ratio_pct=ratio,
        )

    def series_ids(self) -> list[str]:
        return sorted(f"{e.code}.{m}" for e in self.economies for m in (CREDIT_MEASURE, GDP_MEASURE))

    def publications(self, day: dt.date) -> Batch | None:
        """Quarters published on a business date (the first date carries all history), or None."""
        if day == self.span.start:
            indices = [i for i, pub in enumerate(self.publication) if pub <= day]
        else:
            indices = [i for i, pub in enumerate(self.publication) if pub == day]
        if not indices:
            return None
        rows: list[tuple[str, str, float]] = []
        for e in self.economies:
            for measure, values in ((CREDIT_MEASURE, e.credit_bn), (GDP_MEASURE, e.gdp_bn)):
                rows.extend((f"{e.code}.{measure}", self.quarters[i].isoformat(), float(values[i])) for i in indices)
        rows.sort(key=lambda r: (r[0], r[1]))
        return {
            "series_id": [r[0] for r in rows],
            "period_end_date": [r[1] for r in rows],
            "value": fmt_fixed(np.array([r[2] for r in rows]), 2),
        }

    def episodes(self) -> list[Episode]:
        if not self.economies or not self.quarters:
            return []
        code = self.economies[self.boom_index].code
        return [
            Episode(
                episode_id=f"macro-{code}",
                domain=Domain.MACRO,
                kind=EpisodeKind.CREDIT_BOOM,
                entity_type=EntityType.ECONOMY,
                entity_id=code,
                onset_date=self.quarters[self.boom_start],
                event_date=self.crisis_date,
                end_date=None,
            )
        ]
