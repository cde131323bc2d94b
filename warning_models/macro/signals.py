"""The signals approach (Kaminsky, Lizondo & Reinhart 1998) with the usefulness measure of Alessi & Detken (2011).

An indicator *signals* in a quarter when it is at or beyond a threshold (``value >= threshold`` for direction
"above", ``value <= threshold`` for "below"). Against the pre-crisis target (``crisis_windows.label_quarters``):

* T1 = missed-crisis rate = FN / (TP + FN); T2 = false-alarm rate = FP / (FP + TN);
* noise-to-signal ratio NSR = T2 / (1 - T1) (inf when no pre-crisis quarter is signalled);
* loss L(theta) = theta * T1 + (1 - theta) * T2, theta the policymaker's aversion to missed crises;
* absolute usefulness Ua = min(theta, 1 - theta) - L (what the indicator saves over ignoring it, i.e. over
  always or never signalling, whichever is cheaper); relative usefulness Ur = Ua / min(theta, 1 - theta)
  (1 = a perfect indicator, 0 = no better than ignoring it, negative = worse).

Threshold grid (``best_threshold``): by default every distinct observed value, which is exhaustive (any other
threshold gives the same signals as one of them); ``candidates="percentiles"`` uses the 1st..99th percentiles,
or pass any array. Among the thresholds that give at least ``min_signals`` correct signals (TP, default 1):
"noise_to_signal" picks the smallest NSR and "relative_usefulness" the largest Ur; ties (within 1e-12) go to the
threshold with the most true positives, then to the more conservative one (the higher threshold for "above",
the lower for "below"). NaN values (and NaN targets) are left out of every count.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from warning_models.credit.validation import auc
from warning_models.macro.crisis_windows import TARGET, USABLE

Criterion = Literal["noise_to_signal", "relative_usefulness"]
Direction = Literal["above", "below"]
CRITERIA: tuple[str, ...] = ("noise_to_signal", "relative_usefulness")
DIRECTIONS: tuple[str, ...] = ("above", "below")
TIE_TOL = 1e-12


def _check_theta(theta: float) -> None:
    if not 0.0 < theta < 1.0:
        raise ValueError(f"theta must lie strictly between 0 and 1, got {theta}")


@dataclass(frozen=True)
class Confusion:
    """Counts of signals against the pre-crisis target."""

    tp: int  # signal in a pre-crisis quarter
    fp: int  # signal in a tranquil quarter (false alarm)
    fn: int  # no signal in a pre-crisis quarter (missed crisis)
    tn: int  # no signal in a tranquil quarter

    @property
    def n(self) -> int:
        return self.tp + self.fp + self.fn + self.tn

    @property
    def t1(self) -> float:
        """Type I error: share of pre-crisis quarters without a signal (nan when there are none)."""
        d = self.tp + self.fn
        return self.fn / d if d else math.nan

    @property
    def t2(self) -> float:
        """Type II error: share of tranquil quarters with a signal (nan when there are none)."""
        d = self.fp + self.tn
        return self.fp / d if d else math.nan

    @property
    def noise_to_signal(self) -> float:
        """T2 / (1 - T1): inf when no pre-crisis quarter is signalled, nan when a class is missing."""
        t1, t2 = self.t1, self.t2
        if math.isnan(t1) or math.isnan(t2):
            return math.nan
        return t2 / (1.0 - t1) if self.tp else math.inf

    def loss(self, theta: float = 0.5) -> float:
        _check_theta(theta)
        return theta * self.t1 + (1.0 - theta) * self.t2

    def absolute_usefulness(self, theta: float = 0.5) -> float:
        return min(theta, 1.0 - theta) - self.loss(theta)

    def relative_usefulness(self, theta: float = 0.5) -> float:
        return self.absolute_usefulness(theta) / min(theta, 1.0 - theta)


def _as_float(values: Iterable) -> np.ndarray:
    """Positional float64 array, nan for None / NaN / pd.NA."""
    if isinstance(values, np.ndarray) and values.dtype.kind in "fiub":
        return values.astype(np.float64)
    s = values.reset_index(drop=True) if isinstance(values, pd.Series) else pd.Series(list(values), dtype=object)
    if s.dtype == object:
        s = pd.to_numeric(s, errors="raise")
    return s.astype("Float64").to_numpy(dtype=np.float64, na_value=np.nan)


def _clean_target(target: Iterable) -> np.ndarray:
    """Target as float64 with nan for missing; raises on values other than 0/1."""
    arr = _as_float(target)
    ok = np.isnan(arr) | (arr == 0) | (arr == 1)
    if not ok.all():
        raise ValueError("target must be 0/1 (or missing)")
    return arr


def confusion(signal: Iterable, target: Iterable) -> Confusion:
    """Confusion counts of a boolean ``signal`` against a 0/1 ``target``; positions with a missing target are
    left out."""
    s = np.asarray(signal, dtype=bool)
    y = _clean_target(target)
    if s.shape != y.shape:
        raise ValueError(f"signal and target differ in length ({s.shape} vs {y.shape})")
    keep = ~np.isnan(y)
    s, pos = s[keep], y[keep] == 1
    return Confusion(
        tp=int(np.sum(s & pos)), fp=int(np.sum(s & ~pos)), fn=int(np.sum(~s & pos)), tn=int(np.sum(~s & ~pos))
    )


def auroc(scores: Iterable, target: Iterable) -> float:
    """Area under the ROC curve by the Mann-Whitney formula: (R1 - n1 (n1 + 1) / 2) / (n1 n0), R1 the sum of
    the positives' ranks among all scores, ties given their average rank (so a tied pair counts 1/2). Pairs
    with a missing score or target are left out; nan when a class is missing."""
    x = _as_float(scores)
    y = _clean_target(target)
    if x.shape != y.shape:
        raise ValueError(f"scores and target differ in length ({x.shape} vs {y.shape})")
    keep = ~np.isnan(x) & ~np.isnan(y)
    area = auc(y[keep] == 1, x[keep])
    return math.nan if area is None else area


@dataclass(frozen=True)
class ThresholdChoice:
    threshold: float
    criterion: str
    direction: str
    confusion: Confusion
    noise_to_signal: float
    relative_usefulness: float
    theta: float

    def signal(self, values: Iterable) -> np.ndarray:
        """Where ``values`` signal at this threshold (NaN never signals)."""
        return apply_threshold(values, self.threshold, self.direction)


def apply_threshold(values: Iterable, threshold: float, direction: str = "above") -> np.ndarray:
    v = _as_float(values)
    with np.errstate(invalid="ignore"):
        return v >= threshold if direction == "above" else v <= threshold


def _candidates(v: np.ndarray, candidates: str | Sequence[float] | np.ndarray | None) -> np.ndarray:
    if candidates is None:
        return np.unique(v)
    if isinstance(candidates, str):
        if candidates != "percentiles":
            raise ValueError(f"candidates must be None, 'percentiles' or numbers, got {candidates!r}")
        return np.unique(np.percentile(v, np.arange(1, 100)))
    c = np.asarray(candidates, dtype=np.float64)
    return np.unique(c[~np.isnan(c)])


def threshold_table(
    values: Iterable,
    target: Iterable,
    *,
    theta: float = 0.5,
    direction: Direction = "above",
    candidates: str | Sequence[float] | np.ndarray | None = None,
) -> pd.DataFrame:
    """Every candidate threshold with its tp, fp, fn, tn, t1, t2, noise_to_signal, loss and relative
    usefulness (the grid ``best_threshold`` chooses from)."""
    _check_theta(theta)
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {DIRECTIONS}, got {direction!r}")
    v = _as_float(values)
    y = _clean_target(target)
    if v.shape != y.shape:
        raise ValueError(f"values and target differ in length ({v.shape} vs {y.shape})")
    keep = ~np.isnan(v) & ~np.isnan(y)
    v, y = v[keep], y[keep]
    if v.size == 0:
        raise ValueError("no observation with both a value and a target")
    pos, neg = np.sort(v[y == 1]), np.sort(v[y == 0])
    thr = _candidates(v, candidates)
    if direction == "above":
        tp = pos.size - np.searchsorted(pos, thr, side="left")
        fp = neg.size - np.searchsorted(neg, thr, side="left")
    else:
        tp = np.searchsorted(pos, thr, side="right")
        fp = np.searchsorted(neg, thr, side="right")
    fn, tn = pos.size - tp, neg.size - fp
    with np.errstate(divide="ignore", invalid="ignore"):
        t1 = np.where(pos.size > 0, fn / max(pos.size, 1), np.nan)
        t2 = np.where(neg.size > 0, fp / max(neg.size, 1), np.nan)
        nsr = np.where(tp > 0, t2 / (1.0 - t1), np.inf)
        nsr = np.where(np.isnan(t1) | np.isnan(t2), np.nan, nsr)
    loss = theta * t1 + (1.0 - theta) * t2
    m = min(theta, 1.0 - theta)
    return pd.DataFrame(
        {
            "threshold": thr,
            "tp": tp.astype(np.int64),
            "fp": fp.astype(np.int64),
            "fn": fn.astype(np.int64),
            "tn": tn.astype(np.int64),
            "t1": t1,
            "t2": t2,
            "noise_to_signal": nsr,
            "loss": loss,
            "relative_usefulness": (m - loss) / m,
        }
    )


def best_threshold(
    values: Iterable,
    target: Iterable,
    criterion: Criterion = "relative_usefulness",
    theta: float = 0.5,
    direction: Direction = "above",
    candidates: str | Sequence[float] | np.ndarray | None = None,
    min_signals: int = 1,
) -> ThresholdChoice:
    """The threshold that minimises the noise-to-signal ratio or maximises relative usefulness (module
    docstring: grid, eligibility, tie-breaks). Raises ValueError when the sample has no pre-crisis quarter or
    no threshold gives ``min_signals`` true positives."""
    if criterion not in CRITERIA:
        raise ValueError(f"criterion must be one of {CRITERIA}, got {criterion!r}")
    table = threshold_table(values, target, theta=theta, direction=direction, candidates=candidates)
    first = table.iloc[0]
    if int(first["tp"] + first["fn"]) == 0 or int(first["fp"] + first["tn"]) == 0:
        raise ValueError("the sample needs pre-crisis and tranquil quarters to choose a threshold")
    eligible = table[table["tp"] >= max(min_signals, 0)]
    if eligible.empty:
        raise ValueError(f"no candidate threshold gives {min_signals} correct signal(s)")
    if criterion == "noise_to_signal":
        score = eligible["noise_to_signal"].to_numpy()
        best = np.nanmin(score) if np.isfinite(score).any() else np.inf
        tied = eligible[np.isclose(score, best, rtol=TIE_TOL, atol=TIE_TOL) | (score == best)]
    else:
        score = eligible["relative_usefulness"].to_numpy()
        best = np.nanmax(score)
        tied = eligible[np.isclose(score, best, rtol=TIE_TOL, atol=TIE_TOL)]
    # Ties: most true positives, then the more conservative threshold.
    conservative = tied["threshold"] if direction == "above" else -tied["threshold"]
    pick = tied.assign(_c=conservative.to_numpy()).sort_values(["tp", "_c"], ascending=False).iloc[0]
    conf = Confusion(int(pick["tp"]), int(pick["fp"]), int(pick["fn"]), int(pick["tn"]))
    return ThresholdChoice(
        threshold=float(pick["threshold"]),
        criterion=criterion,
        direction=direction,
        confusion=conf,
        noise_to_signal=conf.noise_to_signal,
        relative_usefulness=conf.relative_usefulness(theta),
        theta=theta,
    )


EVALUATION_COLUMNS = (
    "indicator",
    "criterion",
    "direction",
    "threshold",
    "tp",
    "fp",
    "fn",
    "tn",
    "t1",
    "t2",
    "noise_to_signal",
    "relative_usefulness",
    "absolute_usefulness",
    "auroc",
    "n_obs",
    "theta",
)


def evaluate_indicators(
    labelled_panel: pd.DataFrame,
    indicators: Sequence[str],
    theta: float = 0.5,
    *,
    criteria: Sequence[str] = CRITERIA,
    directions: str | Mapping[str, str] = "above",
    candidates: str | Sequence[float] | np.ndarray | None = None,
    min_signals: int = 1,
    target_col: str = TARGET,
    usable_col: str = USABLE,
) -> pd.DataFrame:
    """One row per indicator x criterion on the usable quarters of a labelled panel (``label_quarters``):
    the chosen threshold, its confusion counts, T1, T2, NSR, usefulness, and the AUROC of the raw indicator
    (higher value = more crisis-prone; below 0.5 means the indicator works the other way). An indicator for
    which no threshold qualifies gets a row with a NaN threshold and NaN counts."""
    _check_theta(theta)
    for col in (*indicators, target_col, usable_col):
        if col not in labelled_panel.columns:
            raise ValueError(f"panel lacks the column {col!r}")
    sample = labelled_panel[labelled_panel[usable_col].astype(bool)]
    y = sample[target_col]
    rows = []
    for ind in indicators:
        direction = directions if isinstance(directions, str) else directions.get(ind, "above")
        x = pd.to_numeric(sample[ind], errors="coerce").astype(np.float64)
        n_obs = int((x.notna() & y.notna()).sum())
        auc = auroc(x, y)
        for crit in criteria:
            row: dict[str, object] = {
                "indicator": ind,
                "criterion": crit,
                "direction": direction,
                "auroc": auc,
                "n_obs": n_obs,
                "theta": theta,
            }
            try:
                choice = best_threshold(
                    x, y, crit, theta=theta, direction=direction, candidates=candidates, min_signals=min_signals
                )
            except ValueError:
                row.update({k: math.nan for k in EVALUATION_COLUMNS if k not in row and k not in ("indicator",)})
            else:
                c = choice.confusion
                row.update(
                    threshold=choice.threshold,
                    tp=c.tp,
                    fp=c.fp,
                    fn=c.fn,
                    tn=c.tn,
                    t1=c.t1,
                    t2=c.t2,
                    noise_to_signal=c.noise_to_signal,
                    relative_usefulness=c.relative_usefulness(theta),
                    absolute_usefulness=c.absolute_usefulness(theta),
                )
            rows.append(row)
    out = pd.DataFrame(rows, columns=list(EVALUATION_COLUMNS))
    for col in ("tp", "fp", "fn", "tn"):
        out[col] = out[col].astype("Int64")
    return out
