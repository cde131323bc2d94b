"""Logistic regression by maximum likelihood (statsmodels ``Logit``), with a ridge fallback under separation.

Columns are standardised first, so the fallback penalty treats them alike and the coefficients compare as
log-odds per standard deviation. Newton runs first in numpy (cheap iterations, step halving, separation shows as
drifting coefficients); statsmodels then confirms the MLE from there and supplies the fit statistics.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy.special import expit
from statsmodels.tools.sm_exceptions import (
    ConvergenceWarning,
    HessianInversionWarning,
    PerfectSeparationError,
    PerfectSeparationWarning,
)

from warning_models.credit.validation import auc

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LogitSettings:
    max_iter: int = 30  # Newton iterations of the MLE; a healthy sample converges in about 10
    refine_max_iter: int = 5  # statsmodels Logit iterations from the Newton solution (1-2 when it is the MLE)
    ridge_max_iter: int = 50  # Newton iterations of the ridge fallback
    max_abs_coef: float = 15.0  # a standardised coefficient beyond this is quasi-separation: refit ridge
    ridge_alpha: float = 1e-3  # fallback: L2 penalty per observation on the standardised coefficients


class FitMethod(StrEnum):
    """How the PD model was fitted."""

    LOGIT_NEWTON = "logit_newton"  # maximum likelihood, statsmodels Logit
    RIDGE_FALLBACK = "ridge_fallback"  # L2-penalised Logit, when the maximum likelihood estimate is unusable


@dataclass(frozen=True)
class LogitFit:
    """A fitted (possibly ridge-penalised) logistic regression on standardised features."""

    columns: list[str]  # kept columns, model order (without the constant)
    dropped: list[str]  # constant columns left out
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray  # constant first, then one per kept column (standardised scale)
    method: FitMethod
    converged: bool
    fit_stats: dict[str, float | int | bool | str | None]

    def linear_terms(self, frame: pd.DataFrame) -> np.ndarray:
        """Per-row contribution of each kept column to the log-odds (standardised value x coefficient)."""
        z = (frame[self.columns].to_numpy(dtype=np.float64) - self.mean) / self.scale
        return z * self.coef[1:]

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        return expit(self.coef[0] + self.linear_terms(frame).sum(axis=1))

    def raw_coefficients(self) -> tuple[float, dict[str, float]]:
        """Intercept and per-column coefficients on the columns' own scale (not standardised)."""
        slopes = self.coef[1:] / self.scale
        intercept = float(self.coef[0] - np.sum(slopes * self.mean))
        return intercept, {c: float(b) for c, b in zip(self.columns, slopes)}


def _base_rate_start(y: np.ndarray, k: int) -> np.ndarray:
    """Start at the base rate: intercept = logit(mean(y)), slopes 0."""
    rate = min(max(float(np.mean(y)), 1e-6), 1 - 1e-6)
    return np.r_[np.log(rate / (1 - rate)), np.zeros(k - 1)]


def newton_logit(
    exog: np.ndarray, y: np.ndarray, alpha: float, max_iter: int, tol: float = 1e-10
) -> tuple[np.ndarray, bool, int]:
    """Maximise the Logit log-likelihood minus ``alpha * n / 2 * sum(coef[1:] ** 2)`` (the intercept is free).

    Newton-Raphson with step halving; converged when the objective and the coefficients stop moving. With
    ``alpha = 0`` it is the plain MLE: under (quasi-)separation the coefficients keep drifting and it does not
    converge. With ``alpha > 0`` the penalty keeps the Hessian positive definite and the coefficients finite.
    (statsmodels' penalised fits are coordinate descent, seconds on 50,000 rows, or Newton without step
    control, which diverges under separation.) Returns (coefficients, converged, iterations).
    """
    n, k = exog.shape
    penalty = np.full(k, alpha * n)
    penalty[0] = 0.0
    coef = _base_rate_start(y, k)

    def objective(b: np.ndarray) -> float:
        eta = exog @ b
        return float(np.sum(y * eta - np.logaddexp(0.0, eta)) - 0.5 * np.sum(penalty * b * b))

    current = objective(coef)
    for iteration in range(1, max_iter + 1):
        p = expit(exog @ coef)
        gradient = exog.T @ (y - p) - penalty * coef
        hessian = (exog * (p * (1 - p))[:, None]).T @ exog + np.diag(penalty) + 1e-9 * np.eye(k)
        step = np.linalg.solve(hessian, gradient)
        scale = 1.0
        while True:
            candidate = coef + scale * step
            value = objective(candidate)
            if value >= current or scale < 1e-6:
                break
            scale /= 2
        moved = float(np.max(np.abs(candidate - coef)))
        coef, previous, current = candidate, current, value
        if abs(current - previous) <= tol * (1 + abs(current)) and moved < 1e-6:
            return coef, True, iteration
    return coef, False, max_iter


def _statsmodels_logit(
    exog: np.ndarray, y: np.ndarray, start: np.ndarray, max_iter: int
) -> tuple[np.ndarray, dict[str, float | int]]:
    """statsmodels' Logit MLE from ``start`` (a converged solution: one or two Newton steps), with its stats.

    Raises on separation, non-convergence or a singular Hessian (the caller falls back to ridge).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # exp overflow in the logistic cdf is harmless
        for category in (PerfectSeparationWarning, ConvergenceWarning, HessianInversionWarning):
            warnings.simplefilter("error", category)
        result = sm.Logit(y, exog).fit(start_params=start, method="newton", maxiter=max_iter, disp=0)
    if not result.mle_retvals.get("converged", False):
        raise ConvergenceWarning("statsmodels Logit did not converge")
    stats = {
        "llf": float(result.llf),
        "aic": float(result.aic),
        "bic": float(result.bic),
        "refine_iterations": int(result.mle_retvals.get("iterations", 0)),
    }
    return np.asarray(result.params), stats


def fit_logit(frame: pd.DataFrame, y: np.ndarray, settings: LogitSettings) -> LogitFit:
    """statsmodels Logit; on separation, singular Hessian or non-convergence an L2-penalised fit instead.

    Constant columns are dropped and the others standardised, so the fallback penalty treats them alike and the
    coefficients compare as log-odds per standard deviation. Newton runs first in numpy (cheap iterations,
    step halving, separation shows as drifting coefficients); statsmodels then confirms the MLE from there.
    """
    x = frame.to_numpy(dtype=np.float64)
    scale = x.std(axis=0)
    keep = scale > 1e-12
    columns = [c for c, k in zip(frame.columns, keep) if k]
    dropped = [c for c, k in zip(frame.columns, keep) if not k]
    mean, scale = x[:, keep].mean(axis=0), scale[keep]
    exog = np.column_stack([np.ones(len(x)), (x[:, keep] - mean) / scale])
    y = np.asarray(y, dtype=np.float64)

    stats: dict[str, float | int | bool | str | None] = {}
    method, coef, converged, reason = FitMethod.LOGIT_NEWTON, None, False, None
    try:
        start, converged, iterations = newton_logit(exog, y, 0.0, settings.max_iter)
        stats["iterations"] = iterations
        if not converged:
            reason = f"Newton did not converge in {iterations} iterations (separation)"
        elif np.max(np.abs(start[1:]), initial=0.0) > settings.max_abs_coef:
            reason = f"a standardised coefficient beyond {settings.max_abs_coef:g} (quasi-separation)"
        else:
            coef, fitted_stats = _statsmodels_logit(exog, y, start, settings.refine_max_iter)
            stats.update(fitted_stats)
    except (
        PerfectSeparationError,
        PerfectSeparationWarning,
        ConvergenceWarning,
        HessianInversionWarning,
        np.linalg.LinAlgError,
        ValueError,
    ) as exc:
        coef, reason = None, f"{type(exc).__name__}: {exc}"[:200]

    if coef is None:
        method = FitMethod.RIDGE_FALLBACK
        coef, converged, iterations = newton_logit(exog, y, settings.ridge_alpha, settings.ridge_max_iter)
        llf = float(sm.Logit(y, exog).loglike(coef))  # the unpenalised log-likelihood, comparable to Logit's
        stats.update(fallback_reason=reason, llf=llf, ridge_alpha=settings.ridge_alpha, iterations=iterations)
        log.info("Logit fit fell back to ridge (%s)", reason)

    fitted = expit(exog @ coef)
    # the intercept-only log-likelihood in closed form (statsmodels' llnull refits it by Nelder-Mead)
    rate = float(y.mean()) if len(y) else 0.0
    llnull = float(len(y) * (rate * np.log(rate) + (1 - rate) * np.log(1 - rate))) if 0 < rate < 1 else 0.0
    stats.update(
        llnull=llnull,
        pseudo_r2=1 - float(stats["llf"]) / llnull if llnull < 0 else None,
        method=method.value,
        converged=converged,
        n_obs=len(y),
        n_positive=int(y.sum()),
        event_rate=rate,
        auc_in_sample=auc(y, fitted),
        brier_in_sample=float(np.mean((fitted - y) ** 2)) if len(y) else None,
    )
    return LogitFit(columns, dropped, mean, scale, coef, method, converged, stats)
