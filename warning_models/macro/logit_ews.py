"""A logit early-warning model of systemic crises (Lang 2018 style) with real-time out-of-sample evaluation.

``fit_logit`` fits ``statsmodels`` ``Logit`` (with a constant) of ``pre_crisis`` on indicators standardised with
the training sample's mean and standard deviation (ddof = 1, stored with the model), on usable quarters only:
crisis, post-crisis, too-close and unknown-outcome quarters are never trained on (``crisis_windows``). When the
maximum likelihood estimate does not exist or is unreliable (perfect or quasi separation: a
``PerfectSeparationError`` / ``PerfectSeparationWarning``, no convergence, a singular Hessian, or a standardised
coefficient beyond ``max_abs_coef``), the model is refitted as an L2-penalised (ridge) logit,
``GLM(Binomial).fit_regularized(alpha, L1_wt=0)``, which minimises -loglik / n + alpha * |beta|^2 / 2 with the
constant unpenalised; ``method`` records which one was used ("mle" or "l2").

``out_of_sample`` evaluates the model as a supervisor would have used it:

* ``scheme="recursive"`` (expanding window): at each evaluation quarter q (from ``first_train_end`` on, default
  the panel's first quarter), the model in force was fitted at the last refit date r <= q (a refit every
  ``refit_every`` quarters) on the labels known at r: ``label_quarters(..., last_known_date=end of r)``, so only
  crises that had started by r count, a crisis not yet over is ongoing, and a quarter is a tranquil 0 only once
  its whole window (t + horizon_max) has passed. A fit needs ``min_events`` pre-crisis and ``min_events``
  tranquil quarters; until then no prediction is made (prob NaN). The signalling threshold is chosen on the
  fit's own training sample (in-sample probabilities, ``best_threshold`` with the criterion and theta given)
  and applied out of sample unchanged.
* ``scheme="leave_one_economy_out"``: each economy is predicted by a model fitted on all the others with full
  hindsight labels (not real time across dates, but out of sample across economies).

Predictions are scored against the full-hindsight labels (``evaluation_known_date``, default the panel's last
date), on the usable quarters only, so crisis and post-crisis quarters are left out of the evaluation as well.
The indicators are taken as they stand in the panel: they must themselves be real-time (e.g. a one-sided gap),
and a publication lag is the caller's to apply (shift the indicator so that quarter q holds what was known at q).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

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

from warning_models.macro.crisis_windows import (
    DEFAULT_HORIZON_MAX,
    DEFAULT_HORIZON_MIN,
    DEFAULT_POST_CRISIS_QUARTERS,
    ECONOMY,
    PERIOD,
    REASON,
    TARGET,
    USABLE,
    as_crises,
    label_quarters,
    quarter_index,
)
from warning_models.macro.signals import Confusion, auroc, best_threshold, confusion

CONST = "const"
DEFAULT_L2_ALPHA = 0.01
DEFAULT_MAX_ABS_COEF = 15.0
DEFAULT_MIN_EVENTS = 10


@dataclass(frozen=True)
class LogitEws:
    """A fitted logit EWS: coefficients on standardised indicators, and the standardisation."""

    indicators: tuple[str, ...]
    params: pd.Series  # "const" then one log-odds coefficient per indicator standard deviation
    mean: pd.Series  # training mean of each indicator
    sd: pd.Series  # training standard deviation (ddof = 1)
    n_obs: int
    n_events: int
    method: str  # "mle" | "l2"
    pseudo_r2: float | None  # McFadden: 1 - loglik / loglik(constant only), in sample
    l2_alpha: float | None = None  # the penalty when method == "l2"
    fallback_reason: str | None = None  # why the MLE was not kept

    def linear_predictor(self, panel: pd.DataFrame) -> np.ndarray:
        return self._linear(_design(panel, self.indicators))

    def predict(self, panel: pd.DataFrame) -> np.ndarray:
        """Probability of a crisis start horizon_min..horizon_max quarters ahead for each row (NaN when an
        indicator is missing)."""
        return expit(self.linear_predictor(panel))

    def predict_matrix(self, x: np.ndarray) -> np.ndarray:
        """``predict`` on raw indicator values already in an array (columns in ``indicators`` order)."""
        return expit(self._linear(np.asarray(x, dtype=np.float64)))

    def _linear(self, x: np.ndarray) -> np.ndarray:
        z = (x - self.mean.to_numpy()) / self.sd.to_numpy()
        return self.params[CONST] + z @ self.params[list(self.indicators)].to_numpy()


def _design(frame: pd.DataFrame, indicators: Sequence[str]) -> np.ndarray:
    return frame[list(indicators)].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=np.float64)


def _mcfadden(y: np.ndarray, p: np.ndarray) -> float | None:
    p = np.clip(p, 1e-15, 1 - 1e-15)
    ybar = float(y.mean())
    if ybar in (0.0, 1.0):
        return None
    ll = float(np.sum(y * np.log(p) + (1 - y) * np.log(1 - p)))
    ll0 = float(len(y) * (ybar * math.log(ybar) + (1 - ybar) * math.log(1 - ybar)))
    return 1.0 - ll / ll0


def _training_sample(
    labelled_panel: pd.DataFrame, indicators: Sequence[str], target_col: str, usable_col: str
) -> tuple[np.ndarray, np.ndarray]:
    for col in (*indicators, target_col, usable_col):
        if col not in labelled_panel.columns:
            raise ValueError(f"panel lacks the column {col!r}")
    x = _design(labelled_panel, indicators)
    y = labelled_panel[target_col].astype("Float64").to_numpy(dtype=np.float64, na_value=np.nan)
    keep = labelled_panel[usable_col].to_numpy(dtype=bool) & ~np.isnan(y) & ~np.isnan(x).any(axis=1)
    return x[keep], y[keep]


def fit_logit(
    labelled_panel: pd.DataFrame,
    indicators: Sequence[str],
    *,
    target_col: str = TARGET,
    usable_col: str = USABLE,
    l2_alpha: float = DEFAULT_L2_ALPHA,
    max_abs_coef: float = DEFAULT_MAX_ABS_COEF,
    maxiter: int = 100,
    force_l2: bool = False,
) -> LogitEws:
    """Logit of ``target_col`` on the standardised ``indicators`` over the usable rows with every indicator
    present (module docstring). Raises ValueError without both classes or with a constant indicator."""
    indicators = tuple(indicators)
    if not indicators:
        raise ValueError("need at least one indicator")
    x, y = _training_sample(labelled_panel, indicators, target_col, usable_col)
    n_events = int(y.sum())
    if n_events == 0 or n_events == len(y):
        raise ValueError(f"the training sample needs both classes ({n_events} events in {len(y)} quarters)")
    mean = x.mean(axis=0)
    sd = x.std(axis=0, ddof=1)
    flat = [ind for ind, s in zip(indicators, sd, strict=True) if not s > 0]
    if flat:
        raise ValueError(f"indicators without variation in the training sample: {flat}")
    exog = np.column_stack([np.ones(len(y)), (x - mean) / sd])
    names = [CONST, *indicators]

    params: np.ndarray | None = None
    reason: str | None = "forced" if force_l2 else None
    if not force_l2:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                res = sm.Logit(y, exog).fit(disp=0, maxiter=maxiter, method="newton")
            except PerfectSeparationError:
                reason = "perfect separation"
            except np.linalg.LinAlgError:
                reason = "singular Hessian"
            else:
                params = np.asarray(res.params, dtype=np.float64)
                if not res.mle_retvals.get("converged", True):
                    reason = "no convergence"
        categories = [w.category for w in caught]
        if reason is None and any(issubclass(c, PerfectSeparationWarning) for c in categories):
            reason = "perfect separation"
        elif reason is None and any(issubclass(c, (ConvergenceWarning, HessianInversionWarning)) for c in categories):
            reason = "no convergence"
        if reason is None and params is not None:
            if not np.all(np.isfinite(params)):
                reason = "non-finite coefficients"
            elif np.max(np.abs(params[1:])) > max_abs_coef:
                reason = f"quasi separation (|coefficient| > {max_abs_coef})"
            else:
                pseudo = _mcfadden(y, expit(exog @ params))  # closed-form null model (statsmodels refits it)
                return LogitEws(
                    indicators=indicators,
                    params=pd.Series(params, index=names),
                    mean=pd.Series(mean, index=list(indicators)),
                    sd=pd.Series(sd, index=list(indicators)),
                    n_obs=len(y),
                    n_events=n_events,
                    method="mle",
                    pseudo_r2=pseudo,
                )

    alpha = np.full(exog.shape[1], float(l2_alpha))
    alpha[0] = 0.0  # the constant is not shrunk
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg = sm.GLM(y, exog, family=sm.families.Binomial()).fit_regularized(
            method="elastic_net", alpha=alpha, L1_wt=0.0
        )
    params = np.asarray(reg.params, dtype=np.float64)
    return LogitEws(
        indicators=indicators,
        params=pd.Series(params, index=names),
        mean=pd.Series(mean, index=list(indicators)),
        sd=pd.Series(sd, index=list(indicators)),
        n_obs=len(y),
        n_events=n_events,
        method="l2",
        pseudo_r2=_mcfadden(y, expit(exog @ params)),
        l2_alpha=float(l2_alpha),
        fallback_reason=reason,
    )


@dataclass(frozen=True)
class OosSummary:
    scheme: str
    theta: float
    criterion: str
    auroc: float  # of the out-of-sample probabilities on usable, scored quarters
    confusion: Confusion  # of the out-of-sample signals (training-sample thresholds)
    noise_to_signal: float
    relative_usefulness: float
    absolute_usefulness: float
    n_scored: int  # usable quarters with a prediction
    n_events: int  # of which pre-crisis
    n_unscored: int  # usable quarters without a prediction (no model yet, or an indicator missing)
    n_fits: int


@dataclass(frozen=True)
class OosResult:
    predictions: pd.DataFrame  # economy, period_end_date, prob, threshold, signal, labels, fit_date, method
    summary: OosSummary
    fits: pd.DataFrame = field(repr=False)  # one row per fit: fit_date / held-out economy, n_obs, ...


PREDICTION_COLUMNS = (
    ECONOMY,
    PERIOD,
    "prob",
    "threshold",
    "signal",
    TARGET,
    USABLE,
    REASON,
    "fit_date",
    "method",
)


def _quarter_end(q: int) -> pd.Timestamp:
    return pd.Period(year=q // 4, quarter=q % 4 + 1, freq="Q").end_time.normalize()


def _fit_with_threshold(
    train: pd.DataFrame, indicators: Sequence[str], criterion: str, theta: float, min_events: int, **fit_kw: Any
) -> tuple[LogitEws, float] | None:
    """A model and its training-sample threshold, or None when the sample is too small."""
    x, y = _training_sample(train, indicators, TARGET, USABLE)
    n_events = int(y.sum())
    if n_events < min_events or len(y) - n_events < min_events:
        return None
    model = fit_logit(train, indicators, **fit_kw)
    rows = train[USABLE].to_numpy(dtype=bool)
    p = model.predict(train[rows])
    choice = best_threshold(p, train.loc[rows, TARGET], criterion, theta=theta)
    return model, choice.threshold


def out_of_sample(
    panel: pd.DataFrame,
    crises: pd.DataFrame | Iterable[Any],
    indicators: Sequence[str],
    *,
    scheme: Literal["recursive", "leave_one_economy_out"] = "recursive",
    first_train_end: Any = None,
    refit_every: int = 4,
    min_events: int = DEFAULT_MIN_EVENTS,
    theta: float = 0.5,
    criterion: str = "relative_usefulness",
    horizon_min: int = DEFAULT_HORIZON_MIN,
    horizon_max: int = DEFAULT_HORIZON_MAX,
    post_crisis_quarters: int = DEFAULT_POST_CRISIS_QUARTERS,
    evaluation_known_date: Any = None,
    l2_alpha: float = DEFAULT_L2_ALPHA,
    max_abs_coef: float = DEFAULT_MAX_ABS_COEF,
) -> OosResult:
    """Out-of-sample predictions and their evaluation (module docstring). ``panel`` needs ``economy_code``,
    ``period_end_date`` and the indicator columns (any existing label columns are recomputed)."""
    if refit_every < 1:
        raise ValueError("refit_every must be >= 1")
    if scheme not in ("recursive", "leave_one_economy_out"):
        raise ValueError(f"unknown scheme {scheme!r}")
    crisis_list = as_crises(crises)
    windows = dict(horizon_min=horizon_min, horizon_max=horizon_max, post_crisis_quarters=post_crisis_quarters)
    fit_kw = dict(l2_alpha=l2_alpha, max_abs_coef=max_abs_coef)
    base = panel.drop(columns=[c for c in (TARGET, USABLE, REASON) if c in panel.columns]).reset_index(drop=True)
    final = label_quarters(base, crisis_list, last_known_date=evaluation_known_date, **windows)
    q = quarter_index(base[PERIOD])
    design = _design(base, indicators)

    prob = np.full(len(base), np.nan)
    thr = np.full(len(base), np.nan)
    fit_date = pd.Series(pd.NaT, index=base.index, dtype="datetime64[ns]")
    method = pd.Series(None, index=base.index, dtype=object)
    fits = []

    if scheme == "recursive":
        start = int(quarter_index(first_train_end)[0]) if first_train_end is not None else int(q.min())
        model: tuple[LogitEws, float] | None = None
        last_fit = None
        for quarter in np.unique(q[q >= start]):
            if model is None or quarter - last_fit >= refit_every:
                known_at = _quarter_end(int(quarter))
                train = label_quarters(base, crisis_list, last_known_date=known_at, **windows)
                fitted = _fit_with_threshold(train, indicators, criterion, theta, min_events, **fit_kw)
                if fitted is not None:
                    model, last_fit = fitted, int(quarter)
                    fits.append(
                        {
                            "fit_date": known_at,
                            "n_obs": fitted[0].n_obs,
                            "n_events": fitted[0].n_events,
                            "method": fitted[0].method,
                            "threshold": fitted[1],
                        }
                    )
            if model is None:
                continue
            rows = q == quarter
            prob[rows] = model[0].predict_matrix(design[rows])
            thr[rows] = model[1]
            fit_date[rows] = _quarter_end(last_fit)
            method[rows] = model[0].method
    else:
        codes = base[ECONOMY].astype(str).to_numpy()
        for code in pd.unique(codes):
            held = codes == code
            train = final[~held]
            fitted = _fit_with_threshold(train, indicators, criterion, theta, min_events, **fit_kw)
            if fitted is None:
                continue
            fits.append(
                {
                    "held_out": code,
                    "n_obs": fitted[0].n_obs,
                    "n_events": fitted[0].n_events,
                    "method": fitted[0].method,
                    "threshold": fitted[1],
                }
            )
            prob[held] = fitted[0].predict_matrix(design[held])
            thr[held] = fitted[1]
            method[held] = fitted[0].method

    scored = ~np.isnan(prob)
    signal = pd.array(np.where(scored, prob >= np.where(scored, thr, np.inf), False), dtype="boolean")
    signal[~scored] = pd.NA
    predictions = pd.DataFrame(
        {
            ECONOMY: base[ECONOMY],
            PERIOD: base[PERIOD],
            "prob": prob,
            "threshold": thr,
            "signal": signal,
            TARGET: final[TARGET],
            USABLE: final[USABLE],
            REASON: final[REASON],
            "fit_date": fit_date,
            "method": method,
        }
    )
    evaluated = final[USABLE].to_numpy(dtype=bool)
    mask = evaluated & scored
    target = final[TARGET].to_numpy(dtype=np.float64, na_value=np.nan)
    conf = confusion(signal[mask].to_numpy(dtype=bool), target[mask])
    has_both = conf.tp + conf.fn > 0 and conf.fp + conf.tn > 0
    summary = OosSummary(
        scheme=scheme,
        theta=theta,
        criterion=criterion,
        auroc=auroc(prob[mask], target[mask]),
        confusion=conf,
        noise_to_signal=conf.noise_to_signal,
        relative_usefulness=conf.relative_usefulness(theta) if has_both else math.nan,
        absolute_usefulness=conf.absolute_usefulness(theta) if has_both else math.nan,
        n_scored=int(mask.sum()),
        n_events=int(np.nansum(target[mask])),
        n_unscored=int((evaluated & ~scored).sum()),
        n_fits=len(fits),
    )
    return OosResult(predictions=predictions, summary=summary, fits=pd.DataFrame(fits))


def leave_one_economy_out(
    panel: pd.DataFrame, crises: pd.DataFrame | Iterable[Any], indicators: Sequence[str], **kwargs: Any
) -> OosResult:
    """``out_of_sample(..., scheme="leave_one_economy_out")``."""
    return out_of_sample(panel, crises, indicators, scheme="leave_one_economy_out", **kwargs)
