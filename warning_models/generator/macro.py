"""Quarterly macro-financial series and the dates of systemic banking crises, per economy.

Economies XA, XB, ... publish four series quarterly from 1995-03-31, 45 days after each quarter ends:
private credit (stock, billions), nominal GDP (quarterly flow, billions), a real residential property price
index (HOUSE_PRICE, 2010 = 100) and the private non-financial debt service ratio (DEBT_SERVICE, % of income).

The credit-to-GDP ratio (credit / sum of the last four quarters of GDP) drifts slowly around a trend. On top:

- one economy (XC when there are three or more) has a credit boom of 10-12 quarters, +3-4 pp a quarter, up to
  the last quarter published in the span, and a crisis dated one or two quarters after the span (truth file
  only: it lies in the future, so ``macro_crises`` never carries it);
- about half of the economies (at least 3 of 6 or more) had one systemic crisis between 2003 and 2012 (half
  of them around 2008): an 8-14 quarter boom before it (ratio rising 1.8-3 pp a quarter, house prices
  +2-3.5 % a quarter, the debt service ratio rising with the ratio and with tighter rates), a crisis of 4-8
  quarters and 6-10 quarters of deleveraging from its start (ratio and house prices falling);
- one or two other economies had a "false boom" before 2011: a boom that ends softly, without a crisis.

Every economy but the late-boom one is redrawn until its one-sided HP gap (lambda 400,000) stays below
1.8 pp over the span, so the late boom is the only credit-gap signal in the span. Historical crises are
published in ``macro_crises`` on the span's first day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from warning_models.generator.span import Span
from warning_models.macro.hp_filter import hp_trend
from warning_models.generator.truth import Domain, EntityType, Episode, EpisodeKind
from warning_models.generator.writer import Batch, fmt_fixed

HP_LAMBDA = 400_000.0
CREDIT_MEASURE = "CREDIT_PRIVATE"
GDP_MEASURE = "GDP_NOMINAL"
HOUSE_PRICE_MEASURE = "HOUSE_PRICE"
DEBT_SERVICE_MEASURE = "DEBT_SERVICE"
MEASURES = (CREDIT_MEASURE, GDP_MEASURE, HOUSE_PRICE_MEASURE, DEBT_SERVICE_MEASURE)
FIRST_PUBLISHED_QUARTER_END = dt.date(1995, 3, 31)
PRE_HISTORY_QUARTERS = 3  # unpublished GDP quarters so the first published quarter has a 4-quarter sum
HOUSE_PRICE_BASE_YEAR = 2010

# Lending rate (%, before an economy's spread) at the start of a year: high in the 1990s, low after 2009,
# up again from 2022. Linear between knots.
_RATE_KNOTS = ((1995, 7.0), (1999, 6.0), (2003, 4.5), (2007, 5.5), (2009, 3.5), (2013, 2.5), (2016, 2.0),
               (2021, 1.8), (2023, 4.0), (2026, 3.6))


@dataclass(frozen=True)
class MacroParams:
    publication_lag_days: int = 45
    boom_quarters: tuple[int, int] = (10, 12)
    boom_step_pp: tuple[float, float] = (3.0, 4.0)
    crisis_quarters_after_span: tuple[int, int] = (1, 2)
    normal_gap_limit_pp: float = 1.8
    boom_gap_floor_pp: float = 10.0
    max_redraws: int = 200
    # historical crises
    crisis_share: float = 0.5  # of the economies
    crisis_years: tuple[int, int] = (2003, 2012)  # first quarter of the crisis, inclusive
    crisis_around_2008_share: float = 0.5
    hist_boom_quarters: tuple[int, int] = (8, 14)
    hist_boom_step_pp: tuple[float, float] = (1.8, 3.0)
    crisis_length_quarters: tuple[int, int] = (4, 8)
    deleveraging_quarters: tuple[int, int] = (6, 10)
    deleveraging_share: tuple[float, float] = (0.7, 1.0)  # of the boom's rise undone
    # false booms: end softly, no crisis
    false_booms: tuple[int, int] = (1, 2)  # fewer when the panel is small
    false_boom_start_years: tuple[int, int] = (2000, 2009)
    false_boom_quarters: tuple[int, int] = (8, 12)
    false_boom_step_pp: tuple[float, float] = (1.4, 2.4)
    soft_landing_quarters: tuple[int, int] = (8, 16)
    soft_landing_share: tuple[float, float] = (0.6, 0.9)


def quarter_end(year: int, quarter: int) -> dt.date:
    """Last day of a quarter (quarter 1..4)."""
    month = 3 * quarter
    first_next = dt.date(year + (month == 12), month % 12 + 1, 1)
    return first_next - dt.timedelta(days=1)


def quarter_start(day: dt.date) -> dt.date:
    """First day of the quarter containing ``day``."""
    return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def shift_quarters(day: dt.date, quarters: int) -> dt.date:
    """Quarter end ``quarters`` after the end of the quarter containing ``day``."""
    index = day.year * 4 + (day.month - 1) // 3 + quarters
    return quarter_end(index // 4, index % 4 + 1)


def one_sided_hp_gap(y: np.ndarray, at: list[int], lam: float = HP_LAMBDA) -> np.ndarray:
    """Gap at each index in ``at`` using only observations up to it (the Basel credit-gap convention)."""
    return np.array([y[t] - hp_trend(y[: t + 1], lam)[-1] for t in at])


def _quarter_index(year: int, quarter: int) -> int:
    """Index of a quarter in the published panel (0 = 1995Q1)."""
    return (year - FIRST_PUBLISHED_QUARTER_END.year) * 4 + quarter - 1


@dataclass(frozen=True)
class Crisis:
    """A historical systemic crisis: quarter indices into the panel, and the dates ``macro_crises`` carries."""

    code: str
    boom_start: int  # first quarter of the boom
    start: int  # first quarter of the crisis
    end: int  # last quarter of the crisis
    deleveraging_end: int  # last quarter of deleveraging
    start_date: dt.date  # first day of the first quarter
    end_date: dt.date  # last day of the last quarter


@dataclass(frozen=True)
class FalseBoom:
    """A boom that ends softly: quarter indices into the panel."""

    code: str
    boom_start: int
    boom_end: int  # last boom quarter
    landing_end: int  # last quarter of the soft landing


@dataclass
class _Shape:
    """What an economy's episodes add on top of its normal dynamics, per quarter."""

    ratio_step: np.ndarray  # pp a quarter added to credit-to-GDP
    house_growth: np.ndarray  # log growth a quarter added to real house prices
    rate_add: np.ndarray  # pp added to the lending rate
    gdp_growth: np.ndarray  # log growth a quarter added to GDP
    crisis: Crisis | None = None
    false_boom: FalseBoom | None = None
    late_boom: bool = False

    @classmethod
    def empty(cls, n: int) -> _Shape:
        return cls(np.zeros(n), np.zeros(n), np.zeros(n), np.zeros(n))


@dataclass(frozen=True)
class Economy:
    code: str
    credit_bn: np.ndarray  # per published quarter
    gdp_bn: np.ndarray  # per published quarter
    ratio_pct: np.ndarray  # credit / 4-quarter GDP, per published quarter
    house_price: np.ndarray  # real index, 2010 = 100
    debt_service_pct: np.ndarray  # % of income
    crisis: Crisis | None = None
    false_boom: FalseBoom | None = None

    def series(self) -> dict[str, np.ndarray]:
        return {
            CREDIT_MEASURE: self.credit_bn,
            GDP_MEASURE: self.gdp_bn,
            HOUSE_PRICE_MEASURE: self.house_price,
            DEBT_SERVICE_MEASURE: self.debt_service_pct,
        }


class MacroSimulator:
    """All quarters up to the last one published in the span, and the dates they are published."""

    def __init__(self, span: Span, n_economies: int, rng: np.random.Generator, params: MacroParams | None = None):
        p = self.params = params or MacroParams()
        self.span = span
        self.rng = rng
        self.lag = lag = dt.timedelta(days=p.publication_lag_days)
        quarters: list[dt.date] = []
        y, q = FIRST_PUBLISHED_QUARTER_END.year, 1
        while quarter_end(y, q) + lag <= span.end:
            quarters.append(quarter_end(y, q))
            y, q = (y + 1, 1) if q == 4 else (y, q + 1)
        self.quarters = quarters
        self.publication = [qe + lag for qe in quarters]
        n_q = len(quarters)
        # quarters the warehouse can see at the span start and after each publication in the span
        visible_at_start = self.visible_at_start = sum(pub <= span.start for pub in self.publication)
        in_span = {i for i, pub in enumerate(self.publication) if pub > span.start}
        self._span_last_indices = sorted(i for i in {visible_at_start - 1} | in_span if i >= 0)
        self.boom_index = min(2, n_economies - 1)
        self.boom_quarters = int(rng.integers(p.boom_quarters[0], p.boom_quarters[1] + 1))
        self.boom_start = max(n_q - self.boom_quarters, 0)
        lo, hi = p.crisis_quarters_after_span
        self.crisis_date = shift_quarters(span.end, int(rng.integers(lo, hi + 1)))
        # which economies had a historical crisis, and which a false boom
        n_crises = max(1, int(n_economies * p.crisis_share)) if self._crisis_window() else 0
        crisis_set = set(rng.choice(n_economies, size=n_crises, replace=False).tolist()) if n_crises else set()
        others = [i for i in range(n_economies) if i not in crisis_set and i != self.boom_index]
        n_false = min(len(others), int(rng.integers(p.false_booms[0], p.false_booms[1] + 1)))
        if n_economies < 6:
            n_false = min(n_false, 1)
        if not self._false_boom_window():
            n_false = 0
        false_set = set(rng.choice(others, size=n_false, replace=False).tolist()) if n_false else set()
        self.economies = [self._economy(i, n_q, i in crisis_set, i in false_set) for i in range(n_economies)]
        self.historical_crises = sorted(
            (e.crisis for e in self.economies if e.crisis), key=lambda c: (c.code, c.start_date)
        )
        self.false_booms = [e.false_boom for e in self.economies if e.false_boom]

    # ------------------------------------------------------------------ episode placement
    def _crisis_window(self) -> tuple[int, int] | None:
        """Quarter indices a historical crisis may start in: its boom inside the panel, its deleveraging seen."""
        p = self.params
        lo = max(_quarter_index(p.crisis_years[0], 1), p.hist_boom_quarters[1] + 4)
        hi = min(_quarter_index(p.crisis_years[1], 4), self.visible_at_start - p.deleveraging_quarters[1] - 8)
        return (lo, hi) if lo <= hi else None

    def _false_boom_window(self) -> tuple[int, int] | None:
        p = self.params
        lo = max(_quarter_index(p.false_boom_start_years[0], 1), 8)
        longest = p.false_boom_quarters[1] + p.soft_landing_quarters[1]
        hi = min(_quarter_index(p.false_boom_start_years[1], 4), self.visible_at_start - longest - 8)
        return (lo, hi) if lo <= hi else None

    def _shape(self, code: str, n_q: int, late_boom: bool, crisis: bool, false_boom: bool) -> _Shape:
        """Draw the episodes of one economy."""
        rng, p = self.rng, self.params
        s = _Shape.empty(n_q)
        if crisis:
            lo, hi = self._crisis_window()  # type: ignore[misc]
            near_lo, near_hi = max(lo, _quarter_index(2007, 3)), min(hi, _quarter_index(2008, 4))
            if near_lo <= near_hi and rng.random() < p.crisis_around_2008_share:
                start = int(rng.integers(near_lo, near_hi + 1))
            else:
                start = int(rng.integers(lo, hi + 1))
            n_boom = int(rng.integers(p.hist_boom_quarters[0], p.hist_boom_quarters[1] + 1))
            n_crisis = int(rng.integers(p.crisis_length_quarters[0], p.crisis_length_quarters[1] + 1))
            n_delev = int(rng.integers(p.deleveraging_quarters[0], p.deleveraging_quarters[1] + 1))
            boom = slice(start - n_boom, start)
            delev = slice(start, start + n_delev)
            # the boom accelerates a little towards the crisis
            steps = rng.uniform(*p.hist_boom_step_pp, n_boom) * np.linspace(0.8, 1.2, n_boom)
            s.ratio_step[boom] += steps
            undo = steps.sum() * rng.uniform(*p.deleveraging_share)
            s.ratio_step[delev] -= undo * _hump(n_delev)
            s.house_growth[boom] += rng.uniform(0.02, 0.035, n_boom)
            s.house_growth[delev] -= rng.uniform(0.02, 0.04) * _hump(n_delev) * n_delev  # 2-4 % a quarter
            s.rate_add[boom] += np.linspace(0.1, 1.0, n_boom) * rng.uniform(1.0, 2.0)
            s.rate_add[delev] += np.linspace(1.0, 0.0, n_delev) * s.rate_add[start - 1]
            s.gdp_growth[start : start + 3] -= rng.uniform(0.005, 0.015, len(range(start, min(start + 3, n_q))))
            end = start + n_crisis - 1
            s.crisis = Crisis(
                code=code,
                boom_start=boom.start,
                start=start,
                end=end,
                deleveraging_end=delev.stop - 1,
                start_date=quarter_start(self.quarters[start]),
                end_date=self.quarters[end],
            )
        if false_boom:
            lo, hi = self._false_boom_window()  # type: ignore[misc]
            start = int(rng.integers(lo, hi + 1))
            n_boom = int(rng.integers(p.false_boom_quarters[0], p.false_boom_quarters[1] + 1))
            n_land = int(rng.integers(p.soft_landing_quarters[0], p.soft_landing_quarters[1] + 1))
            boom = slice(start, start + n_boom)
            land = slice(boom.stop, boom.stop + n_land)
            steps = rng.uniform(*p.false_boom_step_pp, n_boom)
            s.ratio_step[boom] += steps
            s.ratio_step[land] -= steps.sum() * rng.uniform(*p.soft_landing_share) * _hump(n_land)
            s.house_growth[boom] += rng.uniform(0.015, 0.03, n_boom)
            s.house_growth[land] += rng.uniform(-0.008, 0.0, n_land)
            s.rate_add[boom] += np.linspace(0.1, 0.8, n_boom) * rng.uniform(0.6, 1.2)
            s.rate_add[land] += np.linspace(1.0, 0.0, n_land) * s.rate_add[boom.stop - 1]
            s.false_boom = FalseBoom(code, boom.start, boom.stop - 1, land.stop - 1)
        if late_boom and n_q:
            n = n_q - self.boom_start
            s.ratio_step[self.boom_start :] += rng.uniform(*p.boom_step_pp, n)
            s.house_growth[self.boom_start :] += rng.uniform(0.02, 0.035, n)
            s.rate_add[self.boom_start :] += np.linspace(0.1, 1.0, n) * rng.uniform(0.8, 1.5)
            s.late_boom = True
        return s

    # ------------------------------------------------------------------ series
    def _gdp(self, n_q: int, shape: _Shape) -> np.ndarray:
        """Quarterly nominal GDP flow, including the unpublished pre-history quarters."""
        rng = self.rng
        n = n_q + PRE_HISTORY_QUARTERS
        growth = rng.normal(0.012, 0.005, n)
        first = (FIRST_PUBLISHED_QUARTER_END.year * 4) - PRE_HISTORY_QUARTERS  # quarter index of element 0
        shocks = {(2008, 4): -0.025, (2009, 1): -0.02, (2009, 2): -0.005, (2020, 2): -0.09, (2020, 3): 0.085}
        for i in range(n):
            growth[i] += shocks.get(((first + i) // 4, (first + i) % 4 + 1), 0.0)
        growth[PRE_HISTORY_QUARTERS:] += shape.gdp_growth
        growth[0] = 0.0
        return rng.uniform(40, 600) * np.exp(np.cumsum(growth))

    def _ratio(self, n_q: int, shape: _Shape) -> np.ndarray:
        """Credit-to-GDP in percent: trend + slow cycle + AR(1) noise + the episodes."""
        rng = self.rng
        t = np.arange(n_q, dtype=np.float64)
        base = rng.uniform(60, 140)
        slope = rng.uniform(-0.3, 0.6) / 4
        amp, period, phase = rng.uniform(0.4, 1.1), rng.uniform(28, 48), rng.uniform(0, 2 * np.pi)
        noise = np.zeros(n_q)
        shocks = rng.normal(0, 0.2, n_q)
        for i in range(1, n_q):
            noise[i] = 0.7 * noise[i - 1] + shocks[i]
        return base + slope * t + amp * np.sin(2 * np.pi * t / period + phase) + noise + np.cumsum(shape.ratio_step)

    def _house_price(self, n_q: int, shape: _Shape) -> np.ndarray:
        """Real residential property prices: persistent growth around ~1 % a year, rebased to 2010 = 100."""
        rng = self.rng
        mu = rng.uniform(0.001, 0.005)
        shocks = rng.normal(0, 0.006, n_q)
        growth = np.zeros(n_q)
        for i in range(1, n_q):
            growth[i] = mu + 0.6 * (growth[i - 1] - mu) + shocks[i]
        for year, quarter, g in ((2008, 3, -0.008), (2008, 4, -0.012), (2009, 1, -0.01), (2009, 2, -0.005)):
            k = _quarter_index(year, quarter)
            if k < n_q:
                growth[k] += g
        growth += shape.house_growth
        growth[0] = 0.0
        level = np.exp(np.cumsum(growth))
        base = [i for i, q in enumerate(self.quarters) if q.year == HOUSE_PRICE_BASE_YEAR] or list(range(min(4, n_q)))
        return 100.0 * level / level[base].mean()

    def _debt_service(self, n_q: int, ratio: np.ndarray, shape: _Shape) -> np.ndarray:
        """Debt service ratio in %: interest and amortisation on the debt, as a share of income."""
        rng = self.rng
        years = np.array([q.year + (q.month - 1) / 12 for q in self.quarters])
        knots_x, knots_y = zip(*_RATE_KNOTS)
        spread = rng.uniform(-0.5, 1.2)
        rate_noise = np.zeros(n_q)
        shocks = rng.normal(0, 0.08, n_q)
        for i in range(1, n_q):
            rate_noise[i] = 0.8 * rate_noise[i - 1] + shocks[i]
        rate = np.maximum(np.interp(years, knots_x, knots_y) + spread + rate_noise + shape.rate_add, 0.5)
        # the debt's average rate follows new lending rates slowly (fixed-rate and long-term loans)
        for i in range(1, n_q):
            rate[i] = 0.85 * rate[i - 1] + 0.15 * rate[i]
        amortisation = rng.uniform(4.5, 6.5)
        noise = np.zeros(n_q)
        shocks = rng.normal(0, 0.08, n_q)
        for i in range(1, n_q):
            noise[i] = 0.7 * noise[i - 1] + shocks[i]
        return np.maximum(3.0 + ratio / 100 * (rate + amortisation) + noise, 0.5)

    def _economy(self, index: int, n_q: int, crisis: bool, false_boom: bool) -> Economy:
        """Draw an economy; redraw one whose credit gap over the span is not as planned."""
        p = self.params
        code = f"X{chr(ord('A') + index)}"
        boom = index == self.boom_index
        # the ratio the warehouse can compute starts with the fourth published quarter
        check = [i - 3 for i in self._span_last_indices if i >= 3]
        for _ in range(p.max_redraws):
            shape = self._shape(code, n_q, boom, crisis, false_boom)
            gdp_all = self._gdp(n_q, shape)
            ratio = self._ratio(n_q, shape)
            gdp4 = np.convolve(gdp_all, np.ones(4), mode="valid")  # 4-quarter sums ending at each published quarter
            if not check:
                break
            gap = one_sided_hp_gap(ratio[3:], check)
            if (boom and gap.max() > p.boom_gap_floor_pp) or (not boom and np.abs(gap).max() < p.normal_gap_limit_pp):
                break
        return Economy(
            code=code,
            credit_bn=ratio / 100 * gdp4,
            gdp_bn=gdp_all[PRE_HISTORY_QUARTERS:],
            ratio_pct=ratio,
            house_price=self._house_price(n_q, shape),
            debt_service_pct=self._debt_service(n_q, ratio, shape),
            crisis=shape.crisis,
            false_boom=shape.false_boom,
        )

    # ------------------------------------------------------------------ batches
    def series_ids(self) -> list[str]:
        return sorted(f"{e.code}.{m}" for e in self.economies for m in MEASURES)

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
            for measure, values in e.series().items():
                rows.extend((f"{e.code}.{measure}", self.quarters[i].isoformat(), float(values[i])) for i in indices)
        rows.sort(key=lambda r: (r[0], r[1]))
        return {
            "series_id": [r[0] for r in rows],
            "period_end_date": [r[1] for r in rows],
            "value": fmt_fixed(np.array([r[2] for r in rows]), 2),
        }

    def crises(self, day: dt.date) -> Batch | None:
        """The crisis dating published on a business date, or None.

        The span's first day carries every crisis that started before it (its end date empty while the end is
        not yet known, i.e. later than the publication lag before the day). Later days carry a crisis when it
        starts, and again with its end date once that end is known (end + publication lag).
        """
        rows: list[tuple[str, str, str]] = []
        for c in self.historical_crises:
            known_end = c.end_date + self.lag
            if day == self.span.start:
                if c.start_date <= day:
                    rows.append((c.code, c.start_date.isoformat(), c.end_date.isoformat() if known_end <= day else ""))
            elif day in (c.start_date, known_end) and c.start_date <= day:
                rows.append((c.code, c.start_date.isoformat(), c.end_date.isoformat() if known_end <= day else ""))
        if not rows:
            return None
        rows.sort()
        return {
            "economy_code": [r[0] for r in rows],
            "crisis_start_date": [r[1] for r in rows],
            "crisis_end_date": [r[2] for r in rows],
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


def _hump(n: int) -> np.ndarray:
    """Weights summing to 1 over n quarters, largest in the middle (a change that starts and ends gently)."""
    w = np.sin(np.pi * (np.arange(n) + 0.5) / n)
    return w / w.sum()
