"""How good a PD model is: discrimination (AUC, Gini, KS), accuracy (Brier), calibration by score band with a
Hosmer-Lemeshow-type test, and stability (population stability index).

AUC, KS and PSI are not in statsmodels, so they are here; the calibration test is statsmodels'
``test_chisquare_binning`` (Hosmer-Lemeshow with ``bins`` groups of equal size sorted by PD).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from scipy.stats import rankdata
from statsmodels.stats.diagnostic_gen import test_chisquare_binning

PSI_WATCH = 0.1
PSI_SHIFTED = 0.25
PSI_FLOOR = 1e-4  # an empty band's share, so PSI stays finite


def auc(y: np.ndarray, score: np.ndarray) -> float | None:
    """Area under the ROC curve (Mann-Whitney, ties counted half), None when one class is missing."""
    y = np.asarray(y, dtype=bool)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        return None
    ranks = rankdata(score)
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def ks_statistic(y: np.ndarray, score: np.ndarray) -> float | None:
    """Kolmogorov-Smirnov: the largest gap between the score's distribution among events and non-events."""
    y = np.asarray(y, dtype=bool)
    score = np.asarray(score, dtype=np.float64)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        return None
    thresholds = np.unique(score)
    cdf_pos = np.searchsorted(np.sort(score[y]), thresholds, side="right") / n_pos
    cdf_neg = np.searchsorted(np.sort(score[~y]), thresholds, side="right") / n_neg
    return float(np.max(np.abs(cdf_pos - cdf_neg)))


def brier(y: np.ndarray, pd_: np.ndarray) -> float | None:
    y = np.asarray(y, dtype=np.float64)
    return float(np.mean((np.asarray(pd_, dtype=np.float64) - y) ** 2)) if len(y) else None


@dataclass(frozen=True)
class CalibrationBand:
    band: int  # 1 = lowest PD
    n: int
    events: int
    mean_pd: float
    observed_rate: float
    min_pd: float
    max_pd: float


@dataclass(frozen=True)
class Calibration:
    bands: list[CalibrationBand]
    hl_statistic: float | None
    hl_pvalue: float | None
    hl_df: int | None


def calibration(y: np.ndarray, pd_: np.ndarray, bins: int = 10, in_sample: bool = True) -> Calibration:
    """Observed vs predicted default rate in ``bins`` bands of equal size by PD, and the Hosmer-Lemeshow test
    (df = bands - 2 in sample, = bands out of sample)."""
    y = np.asarray(y, dtype=np.float64)
    p = np.clip(np.asarray(pd_, dtype=np.float64), 1e-12, 1 - 1e-12)
    n_bands = int(min(bins, max(len(y) // 2, 1)))
    if len(y) < 2 * n_bands or n_bands < 3:
        return Calibration([], None, None, None)
    order = np.argsort(p, kind="stable")
    bands = []
    for k, rows in enumerate(np.array_split(order, n_bands), start=1):
        bands.append(
            CalibrationBand(k, len(rows), int(y[rows].sum()), float(p[rows].mean()), float(y[rows].mean()),
                            float(p[rows].min()), float(p[rows].max()))
        )
    df = n_bands - 2 if in_sample else n_bands
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        result = test_chisquare_binning(
            np.column_stack([1 - y, y]), np.column_stack([1 - p, p]), sort_var=p, bins=n_bands, df=df
        )
    statistic, pvalue = float(result.statistic), float(result.pvalue)
    return Calibration(
        bands,
        statistic if np.isfinite(statistic) else None,
        pvalue if np.isfinite(pvalue) else None,
        df,
    )


class PsiStatus(StrEnum):
    STABLE = "stable"  # < 0.1
    WATCH = "watch"  # 0.1 - 0.25
    SHIFTED = "shifted"  # > 0.25


def psi(expected_counts: np.ndarray, actual_counts: np.ndarray) -> float:
    """Population stability index between two distributions over the same bands (counts or shares)."""
    e = np.asarray(expected_counts, dtype=np.float64)
    a = np.asarray(actual_counts, dtype=np.float64)
    if e.sum() <= 0 or a.sum() <= 0:
        return 0.0
    e = np.maximum(e / e.sum(), PSI_FLOOR)
    a = np.maximum(a / a.sum(), PSI_FLOOR)
    return float(np.sum((a - e) * np.log(a / e)))


def psi_status(value: float) -> PsiStatus:
    if value > PSI_SHIFTED:
        return PsiStatus.SHIFTED
    if value >= PSI_WATCH:
        return PsiStatus.WATCH
    return PsiStatus.STABLE


def band_counts(index: np.ndarray, n_bands: int) -> np.ndarray:
    """How many rows fall in each band 0..n_bands-1, and the missing band (-1) last."""
    index = np.asarray(index, dtype=np.int64)
    return np.r_[np.bincount(index[index >= 0], minlength=n_bands)[:n_bands], (index < 0).sum()]


@dataclass(frozen=True)
class Discrimination:
    """The headline validation figures of one sample."""

    n: int
    events: int
    auc: float | None
    gini: float | None
    ks: float | None
    brier: float | None

    @classmethod
    def of(cls, y: np.ndarray, pd_: np.ndarray) -> "Discrimination":
        a = auc(y, pd_)
        return cls(
            len(y), int(np.asarray(y, dtype=bool).sum()), a, None if a is None else 2 * a - 1, ks_statistic(y, pd_),
            brier(y, pd_),
        )
