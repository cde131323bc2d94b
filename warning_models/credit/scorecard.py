"""A PD scorecard: weight-of-evidence bins per feature, a Logit on the WoE values, and points.

``fit_scorecard`` bins every candidate feature (``woe.fit_bins`` / ``woe.fit_categories``), keeps those whose
information value reaches ``min_information_value``, and fits ``logit(PD) = b0 + sum(b_i * WoE_i)`` with
statsmodels (``logit.fit_logit``). The result is plain data (``as_dict`` / ``from_dict``), so a fitted scorecard
is stored in the model registry and reused on later days without refitting.

Points follow the industry scaling: ``score = offset + factor * ln(odds of not defaulting)``, with ``factor =
PDO / ln 2`` and ``offset = base_points - factor * ln(base_odds)`` (600 points at odds 50:1, 20 points to double
the odds by default). Each feature's points are ``-(b_i * WoE_i + b0 / k) * factor + offset / k``: they add up
to the score, so a reviewer can read which feature cost a borrower how many points.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import expit

from warning_models.credit.logit import LogitSettings, fit_logit
from warning_models.credit.woe import BinningConfig, Bins, bins_from_dict, fit_bins, fit_categories


@dataclass(frozen=True)
class ScorecardConfig:
    min_information_value: float = 0.02  # below: the feature is left out of the Logit
    base_points: float = 600.0
    base_odds: float = 50.0  # odds of not defaulting at base_points
    points_to_double_odds: float = 20.0
    binning: BinningConfig = field(default_factory=BinningConfig)
    logit: LogitSettings = field(default_factory=LogitSettings)

    @property
    def factor(self) -> float:
        return self.points_to_double_odds / math.log(2)

    @property
    def offset(self) -> float:
        return self.base_points - self.factor * math.log(self.base_odds)


@dataclass(frozen=True)
class Scorecard:
    """A fitted scorecard. ``bins`` holds every candidate feature (for drift monitoring); ``features`` the ones
    in the Logit, with ``coefficients`` on the WoE scale (negative: a higher WoE is a safer bin)."""

    bins: dict[str, Bins]
    features: list[str]
    intercept: float
    coefficients: dict[str, float]
    mean_woe: dict[str, float]  # each feature's average WoE in training, the reference of explanations
    base_points: float
    base_odds: float
    points_to_double_odds: float
    fit_stats: dict[str, Any]

    @property
    def factor(self) -> float:
        return self.points_to_double_odds / math.log(2)

    @property
    def offset(self) -> float:
        return self.base_points - self.factor * math.log(self.base_odds)

    def woe(self, frame: pd.DataFrame, feature: str) -> np.ndarray:
        return self.bins[feature].transform(frame[feature].to_numpy())

    def log_odds_terms(self, frame: pd.DataFrame) -> np.ndarray:
        """(rows x features) contribution of each feature to the log-odds of default."""
        if not self.features:
            return np.zeros((len(frame), 0))
        return np.column_stack([self.coefficients[f] * self.woe(frame, f) for f in self.features])

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        """PD of each row."""
        return expit(self.intercept + self.log_odds_terms(frame).sum(axis=1))

    def points(self, pd_: np.ndarray) -> np.ndarray:
        """Score points of a PD: higher is safer."""
        p = np.clip(np.asarray(pd_, dtype=np.float64), 1e-12, 1 - 1e-12)
        return self.offset + self.factor * np.log((1 - p) / p)

    def points_of_woe(self, feature: str, woe: np.ndarray | float) -> np.ndarray | float:
        """Points a feature in the model contributes at a WoE value (the intercept shared out evenly)."""
        k = max(len(self.features), 1)
        return -(self.coefficients[feature] * woe + self.intercept / k) * self.factor + self.offset / k

    def feature_points(self, frame: pd.DataFrame) -> np.ndarray:
        """(rows x features) points each feature contributes; the rows add up to ``points(predict(frame))``."""
        if not self.features:
            return np.zeros((len(frame), 0))
        return np.column_stack([self.points_of_woe(f, self.woe(frame, f)) for f in self.features])

    def excess_log_odds(self, frame: pd.DataFrame) -> np.ndarray:
        """(rows x features) log-odds each feature adds against a borrower with the training-average WoE."""
        if not self.features:
            return np.zeros((len(frame), 0))
        mean = np.array([self.coefficients[f] * self.mean_woe[f] for f in self.features])
        return self.log_odds_terms(frame) - mean

    def information_values(self) -> dict[str, float]:
        return {name: b.information_value for name, b in self.bins.items()}

    def as_dict(self) -> dict[str, Any]:
        return {
            "bins": {name: b.as_dict() for name, b in self.bins.items()},
            "features": list(self.features),
            "intercept": self.intercept,
            "coefficients": dict(self.coefficients),
            "mean_woe": dict(self.mean_woe),
            "base_points": self.base_points,
            "base_odds": self.base_odds,
            "points_to_double_odds": self.points_to_double_odds,
            "fit_stats": dict(self.fit_stats),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Scorecard":
        return cls(
            {name: bins_from_dict(b) for name, b in d["bins"].items()},
            list(d["features"]),
            float(d["intercept"]),
            {k: float(v) for k, v in d["coefficients"].items()},
            {k: float(v) for k, v in d["mean_woe"].items()},
            float(d["base_points"]),
            float(d["base_odds"]),
            float(d["points_to_double_odds"]),
            dict(d.get("fit_stats", {})),
        )


def fit_scorecard(
    frame: pd.DataFrame,
    y: np.ndarray,
    numeric: list[str],
    categorical: list[str] = (),  # type: ignore[assignment]
    config: ScorecardConfig = ScorecardConfig(),
) -> Scorecard:
    """Bin every feature, keep the informative ones, fit the Logit on their WoE values."""
    y = np.asarray(y, dtype=bool)
    bins: dict[str, Bins] = {}
    for name in numeric:
        bins[name] = fit_bins(name, frame[name].to_numpy(dtype=np.float64), y, config.binning)
    for name in categorical:
        bins[name] = fit_categories(name, frame[name].to_numpy(), y)
    features = [n for n in [*numeric, *categorical] if bins[n].information_value >= config.min_information_value]
    woe = pd.DataFrame({n: bins[n].transform(frame[n].to_numpy()) for n in features}, index=frame.index)
    fit = fit_logit(woe, y, config.logit)
    intercept, coefficients = fit.raw_coefficients()
    kept = [f for f in features if f in coefficients]  # a WoE column constant in training carries no weight
    return Scorecard(
        bins=bins,
        features=kept,
        intercept=intercept,
        coefficients={f: coefficients[f] for f in kept},
        mean_woe={f: float(woe[f].mean()) for f in kept},
        base_points=config.base_points,
        base_odds=config.base_odds,
        points_to_double_odds=config.points_to_double_odds,
        fit_stats={**fit.fit_stats, "dropped_low_iv": [n for n in bins if n not in features], "dropped_constant": fit.dropped},
    )
