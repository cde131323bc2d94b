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
    read_frame,
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
    max_iter: int = 100  # Newton iterations of the Logit fit
    max_abs_coef: float = 30.0  # a standardised coefficient beyond this is quasi-separation: refit ridge
    ridge_alpha: float = 1e-3  # L2 penalty of the fallback fit (per observation, standardised features)
    explain_top_features: int = 3  # drivers named in an alert

    @classmethod
    def from_env(cls) -> "CreditPdConfig":
        return config_from_env(cls, "CREDIT")


# Numeric features, in model order, with the words used in explanations.
FEATURES: dict[str, str] = {
    "days_past_due": "days past due",
    "max_dpd_30d": "max days past due (trailing window)",
    "paid_due_ratio_90d": "paid/due ratio (trailing window)",
    "missed_instalments_90d": "missed instalments (trailing window)",
    "balance_principal_ratio": "balance/principal",
    "months_on_book": "months on book",
}

_LOAN_DAYS_SQL = """
    select loan_id,
           (performance_date - %s::date) as day_index,
           product,
           principal_amount::float8 as principal_amount,
           balance_amount::float8 as balance_amount,
           days_past_due::float8 as days_past_due,
           is_default,
           coalesce(due_amount, 0)::float8 as due_amount,
           coalesce(paid_amount, 0)::float8 as paid_amount,
           months_on_book::float8 as months_on_book
    from marts.fct_loan_days
    where performance_date between %s and %s
    order by loan_id, performance_date
"""


@dataclass(frozen=True)
class LoanPanel:
    """The loan-day window as dense (day x loan) matrices; day 0 is ``start``."""

    start: dt.date
    loan_ids: np.ndarray  # (L,) str
    product: np.ndarray  # (L,) str, the loan's latest product
    present: np.ndarray  # (D, L) bool: the loan has a row that day
    dpd: np.ndarray
    due: np.ndarray
    paid: np.ndarray
    balance: np.ndarray
    principal: np.ndarray
    months_on_book: np.ndarray
    is_default: np.ndarray  # (D, L) bool

    def day(self, d: dt.date) -> int:
        return (d - self.start).days


def _load_panel(conn: psycopg2.extensions.connection, start: dt.date, end: dt.date) -> tuple[LoanPanel, int]:
    frame = read_frame(conn, _LOAN_DAYS_SQL, (start, start, end))
    n_days = (end - start).days + 1
    codes, loan_ids = pd.factorize(frame["loan_id"], sort=True) if len(frame) else (np.array([], int), pd.Index([]))
    n_loans = len(loan_ids)
    rows = frame["day_index"].to_numpy(dtype=np.int64) if len(frame) else np.array([], np.int64)

    def matrix(column: str, fill: float) -> np.ndarray:
        out = np.full((n_days, n_loans), fill, dtype=np.float64)
        if len(frame):
            out[rows, codes] = frame[column].to_numpy(dtype=np.float64, na_value=np.nan)
        return out

    present = np.zeros((n_days, n_loans), dtype=bool)
    present[rows, codes] = True
    is_default = np.zeros((n_days, n_loans), dtype=bool)
    if len(frame):
        is_default[rows, codes] = frame["is_default"].to_numpy(dtype=bool, na_value=False)
    product = np.full(n_loans, "", dtype=object)
    principal = np.full(n_loans, np.nan)
    if len(frame):
        # rows are ordered by loan and date: the last row of each loan carries its latest attributes
        last = np.r_[codes[1:] != codes[:-1], True]
        product[codes[last]] = frame["product"].to_numpy(dtype=object)[last]
        principal[codes[last]] = frame["principal_amount"].to_numpy(dtype=np.float64, na_value=np.nan)[last]
    panel = LoanPanel(
        start=start,
        loan_ids=np.asarray(loan_ids, dtype=object),
        product=product,
        present=present,
        dpd=matrix("days_past_due", np.nan),
        due=np.nan_to_num(matrix("due_amount", 0.0)),
        paid=np.nan_to_num(matrix("paid_amount", 0.0)),
        balance=matrix("balance_amount", np.nan),
        principal=principal,
        months_on_book=matrix("months_on_book", np.nan),
        is_default=is_default,
    )
    return panel, len(frame)


def _trailing_sum(x: np.ndarray, window: int) -> np.ndarray:
    """Sum over the trailing ``window`` days (the day itself included), along axis 0."""
    cs = np.vstack([np.zeros((1, x.shape[1])), np.cumsum(x, axis=0)])
    upper = np.arange(1, x.shape[0] + 1)
    lower = np.maximum(upper - window, 0)
    return cs[upper] - cs[lower]


def _features(panel: LoanPanel, config: CreditPdConfig) -> dict[str, np.ndarray]:
    """Every numeric feature as a (day x loan) matrix, point-in-time: day j uses days <= j only."""
    dpd = np.where(panel.present, panel.dpd, 0.0)
    dpd = np.nan_to_num(dpd)
    max_dpd = pd.DataFrame(dpd).rolling(config.dpd_window_days, min_periods=1).max().to_numpy()
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


@dataclass(frozen=True)
class LogitFit:
    """A fitted (possibly ridge-penalised) logistic regression on standardised features."""

    columns: list[str]  # kept columns, model order (without the constant)
    dropped: list[str]  # constant columns left out
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray  # constant first, then one per kept column (standardised scale)
    method: str  # "logit_newton" or "ridge_fallback"
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


def fit_logit(frame: pd.DataFrame, y: np.ndarray, config: CreditPdConfig) -> LogitFit:
    """Logit by Newton; on separation, singular Hessian or non-convergence an L2-penalised fit instead.

    Constant columns are dropped first and the others standardised, so the fallback penalty treats them alike
    and the coefficients compare as "log-odds per standard deviation".
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
    coef: np.ndarray | None = None
    method, converged = "logit_newton", False
    try:
        with warnings.catch_warnings():
            for category in (PerfectSeparationWarning, ConvergenceWarning, HessianInversionWarning, RuntimeWarning):
                warnings.simplefilter("error", category)
            result = sm.Logit(y, exog).fit(method="newton", maxiter=config.max_iter, disp=0)
        converged = bool(result.mle_retvals.get("converged", False))
        if converged and np.all(np.isfinite(result.params)) and np.max(np.abs(result.params)) <= config.max_abs_coef:
            coef = np.asarray(result.params)
            stats.update(
                llf=float(result.llf),
                llnull=float(result.llnull),
                pseudo_r2=float(result.prsquared),
                aic=float(result.aic),
                iterations=int(result.mle_retvals.get("iterations", 0)),
            )
        else:
            stats["fallback_reason"] = "not converged or quasi-separated"
    except (
        PerfectSeparationError,
        PerfectSeparationWarning,
        ConvergenceWarning,
        HessianInversionWarning,
        RuntimeWarning,
        np.linalg.LinAlgError,
        ValueError,
    ) as exc:
        stats["fallback_reason"] = f"{type(exc).__name__}: {exc}"[:200]

    if coef is None:
        method = "ridge_fallback"
        alpha = np.full(exog.shape[1], config.ridge_alpha)
        alpha[0] = 0.0  # the intercept is not penalised
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = sm.GLM(y, exog, family=sm.families.Binomial())
            result = model.fit_regularized(alpha=alpha, L1_wt=0.0, maxiter=config.max_iter)
        coef = np.asarray(result.params)
        converged = bool(getattr(result, "converged", True))
        stats.update(llf=float(model.loglike(coef)), ridge_alpha=config.ridge_alpha)
        log.warning("%s: Logit fit fell back to ridge (%s)", INDICATOR, stats.get("fallback_reason"))

    fitted = expit(exog @ coef)
    stats.update(
        method=method,
        converged=converged,
        n_obs=len(y),
        n_positive=int(y.sum()),
        event_rate=float(y.mean()) if len(y) else None,
        auc_in_sample=auc(y, fitted),
        brier_in_sample=float(np.mean((fitted - y) ** 2)) if len(y) else None,
    )
    return LogitFit(columns, dropped, mean, scale, coef, method, converged, stats)


def _label(name: str) -> str:
    return FEATURES.get(name, name)


def _explain(pd_value: float, threshold: float, row: pd.Series, terms: np.ndarray, fit: LogitFit, top: int) -> str:
    order = np.argsort(-terms)
    drivers = []
    for i in order[:top]:
        if terms[i] <= 0:
            break
        name = fit.columns[i]
        drivers.append(
            f"{_label(name)} {fmt(float(row[name]))} vs portfolio mean {fmt(float(fit.mean[i]))} "
            f"({terms[i]:+.2f} log-odds)"
        )
    driven = "; ".join(drivers) if drivers else "no single feature above the portfolio mean"
    return (
        f"PD {pd_value:.2f} of default within the horizon crossed {threshold:.2f}, driven by: {driven}. "
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
    panel, n_rows = _load_panel(conn, first_snapshot - dt.timedelta(days=lookback), as_of)
    features = _features(panel, config)
    live = _live(panel)

    # training snapshots: as_of - horizon, then every step back; label = default in (s, s + horizon]
    snapshot_days = np.array(
        [panel.day(last_snapshot) - k * config.snapshot_step_days for k in range(
            config.training_window_days // config.snapshot_step_days + 1)]
    )
    snapshot_days = snapshot_days[snapshot_days >= 0]
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
    pds = expit(fit.coef[0] + terms.sum(axis=1))

    values: list[IndicatorValue] = []
    alerts: list[Alert] = []
    for k, loan in enumerate(score_loans):
        loan_id, pd_value = str(panel.loan_ids[loan]), float(pds[k])
        values.append(IndicatorValue(EntityType.LOAN, loan_id, pd_value, config.alert_medium_pd))
        severity = severity_for(pd_value, config.alert_medium_pd, config.alert_high_pd)
        if severity is not None:
            threshold = config.alert_high_pd if severity is Severity.HIGH else config.alert_medium_pd
            row = score_frame.iloc[k]
            alerts.append(
                Alert(
                    EntityType.LOAN,
                    loan_id,
                    pd_value,
                    threshold,
                    severity,
                    _explain(pd_value, threshold, row, terms[k], fit, config.explain_top_features),
                )
            )

    snapshot_dates = sorted({panel.start + dt.timedelta(days=int(d)) for d in np.unique(day_idx)})
    run = ModelRun(
        indicator=INDICATOR,
        domain=DOMAIN,
        as_of_date=as_of,
        model_class=(
            "statsmodels.discrete.discrete_model.Logit"
            if fit.method == "logit_newton"
            else "statsmodels.genmod.generalized_linear_model.GLM(Binomial).fit_regularized"
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
