"""Weight-of-evidence binning: cut a feature into ordered bins, each with its WoE and information value.

The bins are fitted on a training sample: candidate cut points at fine quantiles, then adjacent bins merged
until every bin holds at least ``min_bin_share`` of the rows and the event rate is monotone in the direction of the feature's rank correlation with the outcome (pool adjacent violators), then
the adjacent pair whose merge loses the least information value until at most ``max_bins`` remain.

WoE follows the scorecard convention (Siddiqi): ``ln(share of non-events / share of events)``, so a bin riskier
than the sample has a negative WoE. Counts are smoothed by 0.5 so an event-free bin has a finite WoE.
Information value: ``sum((share of non-events - share of events) * WoE)``; below 0.02 a feature is useless,
0.02-0.1 weak, 0.1-0.3 medium, above 0.3 strong.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.stats import spearmanr

SMOOTHING = 0.5


@dataclass(frozen=True)
class BinningConfig:
    max_bins: int = 6
    min_bin_share: float = 0.005  # of the rows
    quantile_step: float = 0.005  # candidate cut points at these quantiles


@dataclass(frozen=True)
class FeatureBins:
    """The fitted bins of one numeric feature: bin i holds ``edges[i-1] < x <= edges[i]``; missing values WoE 0
    unless the training sample had some (then ``missing_woe``)."""

    feature: str
    edges: tuple[float, ...]  # inner cut points, increasing; len(edges) + 1 bins
    woe: tuple[float, ...]
    counts: tuple[int, ...]
    events: tuple[int, ...]
    missing_woe: float = 0.0
    missing_count: int = 0
    missing_events: int = 0

    @property
    def information_value(self) -> float:
        counts = np.array([*self.counts, self.missing_count], dtype=np.float64)
        events = np.array([*self.events, self.missing_events], dtype=np.float64)
        used = counts > 0
        return _iv(counts[used], events[used])

    def bin_index(self, x: np.ndarray) -> np.ndarray:
        """The bin of each value (-1 for missing)."""
        x = np.asarray(x, dtype=np.float64)
        index = np.searchsorted(np.asarray(self.edges, dtype=np.float64), x, side="left")
        return np.where(np.isnan(x), -1, index)

    def transform(self, x: np.ndarray) -> np.ndarray:
        index = self.bin_index(x)
        woe = np.asarray(self.woe, dtype=np.float64)
        return np.where(index < 0, self.missing_woe, woe[np.clip(index, 0, len(woe) - 1)])

    def labels(self) -> list[str]:
        """Human-readable bin ranges, e.g. ``<= 0``, ``(0, 30]``, ``> 30``."""
        if not self.edges:
            return ["all"]
        e = [_num(v) for v in self.edges]
        return [f"<= {e[0]}", *[f"({a}, {b}]" for a, b in zip(e, e[1:])], f"> {e[-1]}"]

    def as_dict(self) -> dict[str, Any]:
        return {
            "feature": self.feature,
            "edges": list(self.edges),
            "woe": list(self.woe),
            "counts": list(self.counts),
            "events": list(self.events),
            "missing_woe": self.missing_woe,
            "missing_count": self.missing_count,
            "missing_events": self.missing_events,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "FeatureBins":
        return cls(
            d["feature"],
            tuple(float(v) for v in d["edges"]),
            tuple(float(v) for v in d["woe"]),
            tuple(int(v) for v in d["counts"]),
            tuple(int(v) for v in d["events"]),
            float(d.get("missing_woe", 0.0)),
            int(d.get("missing_count", 0)),
            int(d.get("missing_events", 0)),
        )


def _num(v: float) -> str:
    return f"{v:g}" if abs(v) < 1e6 else f"{v:,.0f}"


def _shares(counts: np.ndarray, events: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Smoothed share of all events and of all non-events in each bin."""
    bad = events + SMOOTHING
    good = counts - events + SMOOTHING
    return bad / bad.sum(), good / good.sum()


def _woe(counts: np.ndarray, events: np.ndarray) -> np.ndarray:
    share_bad, share_good = _shares(counts, events)
    return np.log(share_good / share_bad)


def _iv(counts: np.ndarray, events: np.ndarray) -> float:
    share_bad, share_good = _shares(counts, events)
    return float(np.sum((share_good - share_bad) * np.log(share_good / share_bad)))


def fit_bins(feature: str, x: np.ndarray, y: np.ndarray, config: BinningConfig = BinningConfig()) -> FeatureBins:
    """Fit monotone WoE bins of ``x`` against the binary outcome ``y``."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=bool)
    missing = np.isnan(x)
    xs, ys = x[~missing], y[~missing]
    if len(xs) == 0:
        return FeatureBins(feature, (), (0.0,), (0,), (0,), 0.0, int(missing.sum()), int(y[missing].sum()))
    grid = np.arange(config.quantile_step, 1.0, config.quantile_step)
    edges = list(np.unique(np.quantile(xs, grid, method="lower")))
    if edges and edges[-1] >= xs.max():
        edges = edges[:-1]  # a cut at the maximum leaves an empty last bin
    index = np.searchsorted(np.asarray(edges), xs, side="left")
    counts: list[float] = np.bincount(index, minlength=len(edges) + 1).astype(np.float64).tolist()
    events: list[float] = np.bincount(index, weights=ys.astype(np.float64), minlength=len(edges) + 1).tolist()

    def _merge(i: int) -> None:
        counts[i] += counts.pop(i + 1)
        events[i] += events.pop(i + 1)
        edges.pop(i)

    # 1. small bins join the neighbour with the closer event rate
    # whole rows: a share of 0.5 % of 2,620 rows is 13 rows, so a 13-row tail (say every loan 30+ days past due)
    # keeps its bin instead of melting into the mass at zero
    min_rows = max(math.floor(config.min_bin_share * len(xs)), 1)
    while len(counts) > 1:
        small = [i for i in range(len(counts)) if counts[i] < min_rows]
        if not small:
            break
        i = min(small, key=lambda k: counts[k])
        if i == 0:
            _merge(0)
        elif i == len(counts) - 1:
            _merge(i - 1)
        else:
            rate = events[i] / counts[i]
            left = abs(events[i - 1] / counts[i - 1] - rate)
            right = abs(events[i + 1] / counts[i + 1] - rate)
            _merge(i - 1 if left <= right else i)
    # 2. monotone event rate in the direction of the rank correlation (pool adjacent violators)
    rho = spearmanr(xs, ys).statistic if len(np.unique(xs)) > 1 and 0 < ys.sum() < len(ys) else 0.0
    direction = 1.0 if not np.isfinite(rho) or rho >= 0 else -1.0
    changed = True
    while changed and len(counts) > 1:
        changed = False
        for i in range(len(counts) - 1):
            r0, r1 = events[i] / counts[i], events[i + 1] / counts[i + 1]
            if direction * (r1 - r0) < 0:
                _merge(i)
                changed = True
                break
    # 3. at most max_bins: merge the adjacent pair that loses the least information value
    while len(counts) > config.max_bins:
        c, e = np.asarray(counts), np.asarray(events)
        base = _iv(c, e)
        losses = []
        for i in range(len(counts) - 1):
            cc = np.r_[c[:i], c[i] + c[i + 1], c[i + 2:]]
            ee = np.r_[e[:i], e[i] + e[i + 1], e[i + 2:]]
            losses.append(base - _iv(cc, ee))
        _merge(int(np.argmin(losses)))
    c, e = np.asarray(counts), np.asarray(events)
    all_counts = np.r_[c, float(missing.sum())]
    all_events = np.r_[e, float(y[missing].sum())]
    woe = _woe(all_counts, all_events)  # missing rows share the denominators when there are any
    has_missing = missing.any()
    return FeatureBins(
        feature,
        tuple(float(v) for v in edges),
        tuple(float(v) for v in (woe[:-1] if has_missing else _woe(c, e))),
        tuple(int(v) for v in c),
        tuple(int(v) for v in e),
        float(woe[-1]) if has_missing else 0.0,
        int(missing.sum()),
        int(y[missing].sum()),
    )


@dataclass(frozen=True)
class CategoryBins:
    """WoE per category of a categorical feature; a category unseen in training gets WoE 0 (the sample's odds)."""

    feature: str
    categories: tuple[str, ...]
    woe: tuple[float, ...]
    counts: tuple[int, ...]
    events: tuple[int, ...]
    # a category unseen in training is the "missing" band of drift monitoring; there is none in training
    missing_woe: float = 0.0
    missing_count: int = 0
    missing_events: int = 0

    @property
    def information_value(self) -> float:
        return _iv(np.asarray(self.counts, dtype=np.float64), np.asarray(self.events, dtype=np.float64))

    def bin_index(self, x: np.ndarray) -> np.ndarray:
        lookup = {c: i for i, c in enumerate(self.categories)}
        return np.array([lookup.get(str(v), -1) for v in x], dtype=np.int64)

    def transform(self, x: np.ndarray) -> np.ndarray:
        index = self.bin_index(x)
        woe = np.asarray(self.woe, dtype=np.float64)
        return np.where(index < 0, 0.0, woe[np.clip(index, 0, max(len(woe) - 1, 0))] if len(woe) else 0.0)

    def labels(self) -> list[str]:
        return list(self.categories)

    def as_dict(self) -> dict[str, Any]:
        return {
            "feature": self.feature,
            "categories": list(self.categories),
            "woe": list(self.woe),
            "counts": list(self.counts),
            "events": list(self.events),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "CategoryBins":
        return cls(
            d["feature"],
            tuple(str(v) for v in d["categories"]),
            tuple(float(v) for v in d["woe"]),
            tuple(int(v) for v in d["counts"]),
            tuple(int(v) for v in d["events"]),
        )


def fit_categories(feature: str, x: np.ndarray, y: np.ndarray) -> CategoryBins:
    """One bin per category (categories with fewer than a handful of rows still get their smoothed WoE)."""
    values = np.asarray([str(v) for v in x], dtype=object)
    y = np.asarray(y, dtype=bool)
    categories = sorted(set(values.tolist()))
    counts = np.array([(values == c).sum() for c in categories], dtype=np.float64)
    events = np.array([(y & (values == c)).sum() for c in categories], dtype=np.float64)
    return CategoryBins(
        feature,
        tuple(categories),
        tuple(float(v) for v in _woe(counts, events)),
        tuple(int(v) for v in counts),
        tuple(int(v) for v in events),
    )


Bins = FeatureBins | CategoryBins


def bins_from_dict(d: dict[str, Any]) -> Bins:
    return CategoryBins.from_dict(d) if "categories" in d else FeatureBins.from_dict(d)
