"""Rows of the validation tables for a PD scorecard: discrimination and calibration per sample, and the
population stability of the score and of every feature today against training."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from warning_models.credit.scorecard import Scorecard
from warning_models.credit.validation import (
    Discrimination,
    PsiStatus,
    band_counts,
    calibration,
    psi,
    psi_status,
)

VALIDATION_COLUMNS = ("model_run_id", "sample", "metric", "value")
CALIBRATION_COLUMNS = (
    "model_run_id", "sample", "band", "loans_count", "defaults_count", "mean_pd", "observed_default_rate",
    "min_pd", "max_pd",
)
FEATURE_COLUMNS = ("model_run_id", "feature", "information_value", "in_model", "coefficient", "psi", "psi_status")
BIN_COLUMNS = (
    "model_run_id", "feature", "bin_index", "bin_label", "training_loans_count", "training_defaults_count", "woe",
    "points", "today_loans_count",
)


@dataclass(frozen=True)
class SampleReport:
    """Validation figures and calibration bands of one sample."""

    sample: str
    discrimination: Discrimination
    metrics: dict[str, float | None]
    bands: list[tuple[Any, ...]]  # (band, n, events, mean_pd, observed, min_pd, max_pd)


def sample_report(sample: str, y: np.ndarray, pd_: np.ndarray, bands: int = 10) -> SampleReport:
    d = Discrimination.of(y, pd_)
    cal = calibration(y, pd_, bands, in_sample=sample == "train")
    metrics: dict[str, float | None] = {
        "n": float(d.n), "events": float(d.events), "event_rate": d.events / d.n if d.n else None,
        "mean_pd": float(np.mean(pd_)) if len(pd_) else None,
        "auc": d.auc, "gini": d.gini, "ks": d.ks, "brier": d.brier,
        "hl_statistic": cal.hl_statistic, "hl_pvalue": cal.hl_pvalue,
        "hl_df": None if cal.hl_df is None else float(cal.hl_df),
    }
    rows = [(b.band, b.n, b.events, b.mean_pd, b.observed_rate, b.min_pd, b.max_pd) for b in cal.bands]
    return SampleReport(sample, d, metrics, rows)


def report_as_dict(report: SampleReport) -> dict[str, Any]:
    return {"sample": report.sample, "metrics": report.metrics, "bands": [list(b) for b in report.bands]}


def report_from_dict(d: dict[str, Any]) -> SampleReport:
    m = d["metrics"]
    disc = Discrimination(int(m["n"]), int(m["events"]), m["auc"], m["gini"], m["ks"], m["brier"])
    return SampleReport(d["sample"], disc, m, [tuple(b) for b in d["bands"]])


def validation_rows(run_id: str, reports: list[SampleReport], today: dict[str, float | None]) -> list[tuple[Any, ...]]:
    rows = [(run_id, r.sample, metric, value) for r in reports for metric, value in r.metrics.items()]
    rows += [(run_id, "today", metric, value) for metric, value in today.items()]
    return rows


def calibration_rows(run_id: str, reports: list[SampleReport]) -> list[tuple[Any, ...]]:
    return [(run_id, r.sample, *band) for r in reports for band in r.bands]


@dataclass(frozen=True)
class Stability:
    """PSI of the score and of each feature, today against the scorecard's training sample."""

    score_psi: float
    feature_psi: dict[str, float]
    today_counts: dict[str, np.ndarray]  # feature -> loans per bin today (missing last)

    def status(self, feature: str | None = None) -> PsiStatus:
        return psi_status(self.score_psi if feature is None else self.feature_psi[feature])

    def shifted(self, features: list[str]) -> list[str]:
        """'score' and the listed features whose PSI says shifted."""
        out = ["score"] if self.status() is PsiStatus.SHIFTED else []
        return out + [f for f in features if self.status(f) is PsiStatus.SHIFTED]


def stability(scorecard: Scorecard, frame: pd.DataFrame, score_bands: dict[str, list[float]]) -> Stability:
    """``score_bands``: the training score's band edges and counts (``{"edges": [...], "counts": [...]}``)."""
    feature_psi, today_counts = {}, {}
    for name, bins in scorecard.bins.items():
        n_bins = len(bins.counts)
        actual = band_counts(bins.bin_index(frame[name].to_numpy()), n_bins)
        expected = np.r_[np.asarray(bins.counts, dtype=np.float64), bins.missing_count]
        feature_psi[name] = psi(expected, actual)
        today_counts[name] = actual
    points = scorecard.points(scorecard.predict(frame))
    edges = np.asarray(score_bands["edges"], dtype=np.float64)
    actual = np.bincount(np.searchsorted(edges, points, side="left"), minlength=len(edges) + 1)
    return Stability(psi(np.asarray(score_bands["counts"], dtype=np.float64), actual), feature_psi, today_counts)


def score_bands(points: np.ndarray, bands: int = 10) -> dict[str, list[float]]:
    """Equal-count bands of the training score: the reference of the score's PSI."""
    edges = np.unique(np.quantile(points, np.linspace(0, 1, bands + 1)[1:-1])) if len(points) else np.array([])
    counts = np.bincount(np.searchsorted(edges, points, side="left"), minlength=len(edges) + 1)
    return {"edges": edges.tolist(), "counts": counts.astype(float).tolist()}


def feature_rows(run_id: str, scorecard: Scorecard, stab: Stability) -> list[tuple[Any, ...]]:
    return [
        (
            run_id, name, bins.information_value, name in scorecard.features, scorecard.coefficients.get(name),
            stab.feature_psi[name], stab.status(name).value,
        )
        for name, bins in scorecard.bins.items()
    ]


def bin_rows(run_id: str, scorecard: Scorecard, stab: Stability) -> list[tuple[Any, ...]]:
    rows = []
    for name, bins in scorecard.bins.items():
        in_model = name in scorecard.coefficients
        today = stab.today_counts[name]
        for i, (label, n, e, w) in enumerate(zip(bins.labels(), bins.counts, bins.events, bins.woe)):
            points = scorecard.points_of_woe(name, w) if in_model else None
            rows.append((run_id, name, i, label, n, e, w, points, int(today[i])))
        if bins.missing_count or today[-1]:
            w = bins.missing_woe
            points = scorecard.points_of_woe(name, w) if in_model else None
            rows.append((run_id, name, -1, "missing", bins.missing_count, bins.missing_events, w, points,
                         int(today[-1])))
    return rows
