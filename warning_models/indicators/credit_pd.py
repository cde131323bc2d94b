"""Credit: probability that a performing loan defaults (90+ days past due) within the horizon, by Logit.

Training sample: loan snapshots every ``snapshot_step_days`` going back from ``as_of - horizon_days``, each a
live, non-defaulted loan with point-in-time features; label = the loan defaults within the following
``horizon_days`` (all observed by ``as_of``, so nothing leaks). The fitted model then scores every live
non-defaulted loan on ``as_of``. The loan-day window is read once and laid out as dense day x loan matrices, so
trailing-window features are cumulative-sum differences.
"""

from __future__ import annotations

import datetime as dt
import logging
import warnings
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import pandas as pd
import psycopg2.extensions
import statsmodels.api as sm
from scipy.special import expit
from scipy.stats import rankdata
from statsmodels.tools.sm_exceptions import (
    ConvergenceWarning,
    HessianInversionWarning,
    PerfectSeparationError,
    PerfectSeparationWarning,
)

from warning_models.errors import InsufficientHistoryError
from warning_models.indicators.base import (
    Alert,
    Domain,
    EntityType,
    IndicatorResult,
    IndicatorValue,
    ModelRun,
    Severity,
    config_from_env,
    data_hash,
    fmt,
    read_frame_by_copy,
    severity_for,
)

log = logging.getLogger(__name__)

INDICATOR = "credit_pd_logit"
DOMAIN = Domain.CREDIT


@dataclass(frozen=True)
class CreditPdConfig:
    """Settings of the credit PD indicator; each can be set with ``EWS_CREDIT_<FIELD>``."""

    horizon_days: int = 60  # label: default within this many days after the snapshot
    snapshot_step_days: int = 7  # one training snapshot every this many days
    training_window_days: int = 364  # oldest snapshot: as_of - horizon_days - training_window_days
    dpd_window_days: int = 30  # trailing window of the max days-past-due feature
    payment_window_days: int = 90  # trailing window of the paid/due ratio and missed-instalment count
    missed_paid_share: float = 0.5  # an instalment counts as missed when paid < this share of due
    paid_ratio_cap: float = 2.0  # paid/due is clipped to [0, cap] (catch-up payments)
    min_positives: int = 10  # fewer defaults in the training sample: InsufficientHistoryError
    alert_medium_pd: float = 0.25
    alert_high_pd: float = 0.5
    max_iter: int = 30  # Newton iterations of the Logit MLE; a healthy sample converges in about 10
    refine_max_iter: int = 5  # statsmodels Logit iterations from the Newton solution (1-2 when it is the MLE)
    ridge_max_iter: int = 50  # Newton iterations of the ridge fallback
    max_abs_coef: float = 15.0  # a standardised coefficient beyond this is quasi-separation: refit ridge
    ridge_alpha: float = 1e-3  # fallback: L2 penalty per observation on the standardised coefficients
    explain_top_features: int = 3  # drivers named in an alert

    @classmethod
    def from_env(cls) -> "CreditPdConfig":
        return config_from_env(cls, "CREDIT")


# Numeric features, in model order, with the words used in explanations ({dpd} / {pay}: window lengths).
FEATURES: dict[str, str] = {
    "days_past_due": "days past due",
    "max_dpd_30d": "max days past due over {dpd} days",
    "paid_due_ratio_90d": "paid/due over {pay} days",
    "missed_instalments_90d": "missed instalments over {pay} days",
    "balance_principal_ratio": "balance/principal",
    "months_on_book": "months on book",
}

# Two reads cover everything the features and labels need, without shipping every quiet loan-day:
# the full rows of the snapshot days and as_of (live loans, balances, months on book), and, over the whole
# window, only the days on which something happens (an instalment due or paid, days past due, default).
# A loan-day in neither read is a quiet day: nothing due or paid, 0 days past due, not in default.
_SNAPSHOT_ROWS_SQL = """
    select loan_id, (performance_date - %s::date) as day_index, product, principal_amount, balance_amount,
           months_on_book, coalesce(days_past_due, 0) as days_past_due
    from marts.fct_loan_days
    where performance_date = any(%s::date[])
"""
_SNAPSHOT_ROWS_TYPES = {
    "loan_id": "str",
    "day_index": "int64",
    "product": "str",
    "principal_amount": "float64",
    "balance_amount": "float64",
    "months_on_book": "float64",
    "days_past_due": "float64",
}
_EVENT_ROWS_SQL = """
    select loan_id, (performance_date - %s::date) as day_index, coalesce(days_past_due, 0) as days_past_due,
           coalesce(is_default, false) as is_default, coalesce(due_amount, 0) as due_amount,
           coalesce(paid_amount, 0) as paid_amount
    from marts.fct_loan_days
    where performance_date between %s and %s
      and (due_amount <> 0 or paid_amount <> 0 or days_past_due > 0 or is_default)
"""
_EVENT_ROWS_TYPES = {
    "loan_id": "str",
    "day_index": "int64",
    "days_past_due": "float64",
    "is_default": "object",
    "due_amount": "float64",
    "paid_amount": "float64",
}


@dataclass(frozen=True)
class LoanPanel:
    """The loan-day window as dense (day x loan) matrices; day 0 is ``start``.

    ``present``, ``balance`` and ``months_on_book`` are filled on the snapshot days and as_of only; ``dpd``,
    ``due``, ``paid`` and ``is_default`` on every day (0 / False on quiet days).
    """

    start: dt.date
    loan_ids: np.ndarray  # (L,) str
    product: np.ndarray  # (L,) str, the loan's latest product
    principal: np.ndarray  # (L,) the loan's latest principal
    present: np.ndarray  # (D, L) bool: the loan has a row that (snapshot) day
    dpd: np.ndarray
    due: np.ndarray
    paid: np.ndarray
    balance: np.ndarray
    months_on_book: np.ndarray
    is_default: np.ndarray  # (D, L) bool

    def day(self, d: dt.date) -> int:
        return (d - self.start).days


def _load_panel(
    conn: psycopg2.extensions.connection, start: dt.date, end: dt.date, snapshot_dates: list[dt.date]
) -> tuple[LoanPanel, int]:
    """Read the loan days in [start, end] (two COPY reads) and lay them out as day x loan matrices."""
    snap = read_frame_by_copy(conn, _SNAPSHOT_ROWS_SQL, (start, snapshot_dates), _SNAPSHOT_ROWS_TYPES)
    events = read_frame_by_copy(
        conn, _EVENT_ROWS_SQL, (start, start, end), _EVENT_ROWS_TYPES, bool_columns=("is_default",)
    )
    n_days = (end - start).days + 1
    all_ids = np.concatenate([snap["loan_id"].to_numpy(object), events["loan_id"].to_numpy(object)])
    loan_ids = pd.Index(pd.unique(all_ids)).sort_values()
    n_loans = len(loan_ids)
    s_rows, s_codes = snap["day_index"].to_numpy(dtype=np.int64), loan_ids.get_indexer(snap["loan_id"])
    e_rows, e_codes = events["day_index"].to_numpy(dtype=np.int64), loan_ids.get_indexer(events["loan_id"])

    def matrix(fill: float, *parts: tuple[np.ndarray, np.ndarray, pd.Series]) -> np.ndarray:
        out = np.full((n_days, n_loans), fill, dtype=np.float64)
        for rows, codes, column in parts:
            out[rows, codes] = column.to_numpy(dtype=np.float64, na_value=fill)
        return out

    present = np.zeros((n_days, n_loans), dtype=bool)
    present[s_rows, s_codes] = True
    is_default = np.zeros((n_days, n_loans), dtype=bool)
    is_default[e_rows, e_codes] = events["is_default"].to_numpy(dtype=object) == True  # noqa: E712
    # each loan's latest product and principal: its snapshot row with the highest day
    order = np.lexsort((s_rows, s_codes))
    last = order[np.r_[s_codes[order][1:] != s_codes[order][:-1], True]] if len(order) else order
    product = np.full(n_loans, "", dtype=object)
    principal = np.full(n_loans, np.nan)
    product[s_codes[last]] = snap["product"].to_numpy(dtype=object)[last]
    principal[s_codes[last]] = snap["principal_amount"].to_numpy(dtype=np.float64, na_value=np.nan)[last]
    panel = LoanPanel(
        start=start,
        loan_ids=np.asarray(loan_ids, dtype=object),
        product=product,
        principal=principal,
        present=present,
        dpd=matrix(0.0, (s_rows, s_codes, snap["days_past_due"]), (e_rows, e_codes, events["days_past_due"])),
        due=matrix(0.0, (e_rows, e_codes, events["due_amount"])),
        paid=matrix(0.0, (e_rows, e_codes, events["paid_amount"])),
        balance=matrix(np.nan, (s_rows, s_codes, snap["balance_amount"])),
        months_on_book=matrix(np.nan, (s_rows, s_codes, snap["months_on_book"])),
        is_default=is_default,
    )
    return panel, len(snap) + len(events)


def _trailing_max(x: np.ndarray, window: int) -> np.ndarray:
    """Max over the trailing ``window`` days (the day itself included), along axis 0; ``x`` must be >= 0."""
    padded = np.vstack([np.zeros((window - 1, x.shape[1])), x])
    return np.lib.stride_tricks.sliding_window_view(padded, window, axis=0).max(axis=-1)


def _trailing_sum(x: np.ndarray, window: int) -> np.ndarray:
    """Sum over the trailing ``window`` days (the day itself included), along axis 0."""
    cs = np.vstack([np.zeros((1, x.shape[1])), np.cumsum(x, axis=0)])
    upper = np.arange(1, x.shape[0] + 1)
    lower = np.maximum(upper - window, 0)
    return cs[upper] - cs[lower]


def _features(panel: LoanPanel, config: CreditPdConfig) -> dict[str, np.ndarray]:
    """Every numeric feature as a (day x loan) matrix, point-in-time: day j uses days <= j only."""
    dpd = np.maximum(np.nan_to_num(panel.dpd), 0.0)
    max_dpd = _trailing_max(np.maximum(dpd, 0.0), config.dpd_window_days)
    due_sum = _trailing_sum(panel.due, config.payment_window_days)
    paid_sum = _trailing_sum(panel.paid, config.payment_window_days)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(due_sum > 0, paid_sum / due_sum, 1.0)
    ratio = np.clip(ratio, 0.0, config.paid_ratio_cap)
    missed = (panel.due > 0) & (panel.paid < config.missed_paid_share * panel.due)
    missed_sum = _trailing_sum(missed.astype(np.float64), config.payment_window_days)
    with np.errstate(divide="ignore", invalid="ignore"):
        balance_ratio = np.where(panel.principal > 0, panel.balance / panel.principal, np.nan)
    return {
        "days_past_due": dpd,
        "max_dpd_30d": max_dpd,
        "paid_due_ratio_90d": ratio,
        "missed_instalments_90d": missed_sum,
        "balance_principal_ratio": balance_ratio,
        "months_on_book": panel.months_on_book,
    }


def _live(panel: LoanPanel) -> np.ndarray:
    """(day x loan) mask of loans on book, not in default and with a balance outstanding."""
    return panel.present & ~panel.is_default & (np.nan_to_num(panel.balance) > 0)


def _design(
    features: dict[str, np.ndarray], panel: LoanPanel, days: np.ndarray, loans: np.ndarray, products: list[str]
) -> pd.DataFrame:
    """The feature rows of (day, loan) pairs, with product dummies for ``products[1:]`` (``products[0]`` base)."""
    columns = {name: features[name][days, loans] for name in FEATURES}
    for product in products[1:]:
        columns[f"product={product}"] = (panel.product[loans] == product).astype(np.float64)
    return pd.DataFrame(columns)


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


def auc(y: np.ndarray, score: np.ndarray) -> float | None:
    """Area under the ROC curve (Mann-Whitney), None when one class is missing."""
    y = np.asarray(y, dtype=bool)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        return None
    ranks = rankdata(score)
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


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


def fit_logit(frame: pd.DataFrame, y: np.ndarray, config: CreditPdConfig) -> LogitFit:
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
        start, converged, iterations = newton_logit(exog, y, 0.0, config.max_iter)
        stats["iterations"] = iterations
        if not converged:
            reason = f"Newton did not converge in {iterations} iterations (separation)"
        elif np.max(np.abs(start[1:]), initial=0.0) > config.max_abs_coef:
            reason = f"a standardised coefficient beyond {config.max_abs_coef:g} (quasi-separation)"
        else:
            coef, fitted_stats = _statsmodels_logit(exog, y, start, config.refine_max_iter)
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
        coef, converged, iterations = newton_logit(exog, y, config.ridge_alpha, config.ridge_max_iter)
        llf = float(sm.Logit(y, exog).loglike(coef))  # the unpenalised log-likelihood, comparable to Logit's
        stats.update(fallback_reason=reason, llf=llf, ridge_alpha=config.ridge_alpha, iterations=iterations)
        log.info("%s: Logit fit fell back to ridge (%s)", INDICATOR, reason)

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


def _label(name: str, config: CreditPdConfig) -> str:
    return FEATURES.get(name, name).format(dpd=config.dpd_window_days, pay=config.payment_window_days)


def _explain(
    pd_value: float, threshold: float, row: dict[str, float], terms: np.ndarray, fit: LogitFit, config: CreditPdConfig
) -> str:
    """Name the features that push this loan's PD up most, each against the training-sample mean."""
    order = np.argsort(-terms)
    drivers = []
    for i in order[: config.explain_top_features]:
        if terms[i] <= 0:
            break
        name = fit.columns[i]
        drivers.append(
            f"{_label(name, config)} {fmt(float(row[name]))} vs portfolio mean {fmt(float(fit.mean[i]))} "
            f"({terms[i]:+.2f} log-odds)"
        )
    driven = "; ".join(drivers) if drivers else "no single feature above the portfolio mean"
    return (
        f"PD {pd_value:.2f} of default within {config.horizon_days} days crossed {threshold:.2f}, driven by: "
        f"{driven}. "
        f"Features: dpd {fmt(float(row['days_past_due']))}, max dpd {fmt(float(row['max_dpd_30d']))}, "
        f"paid/due {float(row['paid_due_ratio_90d']):.2f}, missed {fmt(float(row['missed_instalments_90d']))}, "
        f"balance/principal {float(row['balance_principal_ratio']):.2f}, "
        f"months on book {fmt(float(row['months_on_book']))}."
    )


def compute(
    conn: psycopg2.extensions.connection, as_of: dt.date, config: CreditPdConfig | None = None
) -> IndicatorResult:
    """PD per live loan on ``as_of`` from a Logit trained on snapshots whose outcome is known by ``as_of``."""
    config = config or CreditPdConfig.from_env()
    last_snapshot = as_of - dt.timedelta(days=config.horizon_days)
    first_snapshot = last_snapshot - dt.timedelta(days=config.training_window_days)
    lookback = max(config.payment_window_days, config.dpd_window_days) - 1
    # training snapshots: as_of - horizon, then every step back; label = default in (s, s + horizon]
    n_snapshots = config.training_window_days // config.snapshot_step_days + 1
    snapshots = [last_snapshot - dt.timedelta(days=config.snapshot_step_days * k) for k in range(n_snapshots)]
    panel, n_rows = _load_panel(conn, first_snapshot - dt.timedelta(days=lookback), as_of, [*snapshots, as_of])
    features = _features(panel, config)
    live = _live(panel)
    snapshot_days = np.array([panel.day(d) for d in snapshots], dtype=np.int64)
    defaults_cum = np.vstack([np.zeros((1, live.shape[1])), np.cumsum(panel.is_default, axis=0)])
    day_idx, loan_idx = np.nonzero(live[snapshot_days]) if len(snapshot_days) else (np.array([], int),) * 2
    day_idx = snapshot_days[day_idx]
    horizon_end = day_idx + config.horizon_days
    y = (defaults_cum[horizon_end + 1, loan_idx] - defaults_cum[day_idx + 1, loan_idx]) > 0
    n_positive = int(y.sum())
    if n_positive < config.min_positives:
        raise InsufficientHistoryError(INDICATOR, config.min_positives, n_positive)

    products = sorted({str(p) for p in panel.product[np.unique(loan_idx)]})
    train = _design(features, panel, day_idx, loan_idx, products)
    fill = train.median().fillna(0.0)  # a feature missing on a row (no principal, no months on book)
    train = train.fillna(fill)
    fit = fit_logit(train, y, config)

    # score every live loan on as_of
    today = panel.day(as_of)
    score_loans = np.flatnonzero(live[today])
    score_frame = _design(features, panel, np.full(len(score_loans), today), score_loans, products)
    score_frame = score_frame.fillna(fill)
    terms = fit.linear_terms(score_frame)
    score_matrix = score_frame.to_numpy(dtype=np.float64)
    pds = expit(fit.coef[0] + terms.sum(axis=1))

    values: list[IndicatorValue] = []
    alerts: list[Alert] = []
    for k, loan in enumerate(score_loans):
        loan_id, pd_value = str(panel.loan_ids[loan]), float(pds[k])
        values.append(IndicatorValue(EntityType.LOAN, loan_id, pd_value, config.alert_medium_pd))
        severity = severity_for(pd_value, config.alert_medium_pd, config.alert_high_pd)
        if severity is not None:
            threshold = config.alert_high_pd if severity is Severity.HIGH else config.alert_medium_pd
            row = dict(zip(score_frame.columns, score_matrix[k]))
            alerts.append(
                Alert(
                    EntityType.LOAN,
                    loan_id,
                    pd_value,
                    threshold,
                    severity,
                    _explain(pd_value, threshold, row, terms[k], fit, config),
                )
            )

    snapshot_dates = sorted({panel.start + dt.timedelta(days=int(d)) for d in np.unique(day_idx)})
    run = ModelRun(
        indicator=INDICATOR,
        domain=DOMAIN,
        as_of_date=as_of,
        model_class=(
            "statsmodels.discrete.discrete_model.Logit"
            if fit.method is FitMethod.LOGIT_NEWTON
            else "statsmodels.discrete.discrete_model.Logit likelihood + L2 penalty (Newton, step-halving)"
        ),
        training_start=snapshot_dates[0],
        training_end=snapshot_dates[-1],
        n_obs=len(y),
        params={
            "coefficients": dict(zip(["const", *fit.columns], fit.coef.tolist())),
            "feature_mean": dict(zip(fit.columns, fit.mean.tolist())),
            "feature_scale": dict(zip(fit.columns, fit.scale.tolist())),
            "dropped_constant_features": fit.dropped,
            "missing_value_fill": fill.to_dict(),
            "product_baseline": products[0] if products else None,
            "horizon_days": config.horizon_days,
            "snapshot_step_days": config.snapshot_step_days,
            "snapshots": len(snapshot_dates),
            "alert_medium_pd": config.alert_medium_pd,
            "alert_high_pd": config.alert_high_pd,
        },
        fit_stats={
            **fit.fit_stats,
            "loan_day_rows_read": n_rows,
            "loans_scored": len(score_loans),
            "mean_pd_scored": float(pds.mean()) if len(pds) else None,
        },
        data_hash=data_hash(train.assign(label=y)),
    )
    return IndicatorResult(run, values, alerts)
