"""Access: one risk score per user-day against the user's own trailing baseline (UEBA style).

Events: a Poisson GLM of daily ``events_count`` with a user effect and day-of-week effects, fitted on the
trailing ``baseline_days`` *before* ``as_of`` (the tested day is never in its own baseline), refitted once
without the baseline days it finds implausible so past incidents do not inflate it. The user effects are
profiled out exactly (their Poisson score equations have a closed form), so each GLM fit carries only the
day-of-week columns and the fit scales to thousands of users; the result is the joint maximum likelihood.

The other signals are compared with the user's own baseline on days of the same kind (weekday or weekend):
rows read as a robust z (median / MAD of log1p), the low counts (off-hours events, sensitive-object events,
exports) against the user's robust rate with a quasi-Poisson tail; any new IP counts too. Each signal gives a
strength in [0, 1] (a ramp on the log ratio or z, only when the excess is significant); the score is their
weighted sum (0-100). One signal alone (a busy 2x day, a login from a new IP) stays under the alert threshold;
several together (an insider-like day) cross it.
"""

from __future__ import annotations

import datetime as dt
import warnings
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import pandas as pd
import psycopg2.extensions
import statsmodels.api as sm
from scipy.special import gammainc
from scipy.stats import poisson

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

INDICATOR = "access_activity_baseline"
DOMAIN = Domain.ACCESS
MAD_TO_SD = 1.4826  # MAD of a normal distribution times this is its standard deviation
WEEKEND = (5, 6)


class Signal(StrEnum):
    """A behaviour the access score weighs."""

    EVENTS = "events"
    ROWS_READ = "rows_read"
    NEW_IP = "new_ip"
    OFF_HOURS = "off_hours"
    SENSITIVE = "sensitive_objects"
    EXPORTS = "exports"


# signal -> (mart column, words in explanations); EVENTS and NEW_IP are scored their own way
_COLUMNS: dict[Signal, tuple[str, str]] = {
    Signal.EVENTS: ("events_count", "events"),
    Signal.ROWS_READ: ("rows_read", "rows read"),
    Signal.NEW_IP: ("new_ip_count", "new IP addresses"),
    Signal.OFF_HOURS: ("off_hours_events_count", "off-hours events"),
    Signal.SENSITIVE: ("sensitive_object_events_count", "sensitive-object events"),
    Signal.EXPORTS: ("export_count", "exports"),
}
_COUNT_SIGNALS = (Signal.OFF_HOURS, Signal.SENSITIVE, Signal.EXPORTS)
_DOW_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class AccessBaselineConfig:
    """Settings of the access indicator; each can be set with ``EWS_ACCESS_<FIELD>``."""

    baseline_days: int = 56  # trailing window before as_of (8 of each weekday)
    min_history_days: int = 14  # fewer baseline days (overall, or for a user): not scored
    min_same_kind_days: int = 8  # fewer baseline weekdays/weekend days: robust baselines use all days
    backfit_max_iter: int = 50
    backfit_tol: float = 1e-8
    trim_p_value: float = 1e-4  # baseline days less likely than this under the first fit are left out
    min_expected_events: float = 0.5  # floor of the expected count (users with almost no history)
    events_alpha: float = 0.01  # the events signal needs an (overdispersion-adjusted) p-value below this
    events_ratio_start: float = 1.5  # observed/expected where the events signal starts
    events_ratio_full: float = 4.0  # ... and reaches full strength
    count_ratio_start: float = 2.0  # off-hours / sensitive / export count over the user's rate: starts
    count_ratio_full: float = 6.0  # ... and reaches full strength
    count_winsor_quantile: float = 0.9  # baseline days are capped at the user's quantile before the rate
    robust_z_start: float = 3.0  # robust z of rows read (log1p scale) where the signal starts
    robust_z_full: float = 6.0  # ... and reaches full strength
    log_sd_floor: float = 0.5  # floor of the robust sd on the log1p scale (a factor of about 1.65)
    weight_events: float = 20.0
    weight_rows_read: float = 20.0
    weight_new_ip: float = 15.0
    weight_off_hours: float = 15.0
    weight_sensitive: float = 15.0
    weight_exports: float = 15.0
    alert_medium_score: float = 35.0
    alert_high_score: float = 60.0

    @classmethod
    def from_env(cls) -> "AccessBaselineConfig":
        return config_from_env(cls, "ACCESS")

    def weight(self, signal: Signal) -> float:
        return {
            Signal.EVENTS: self.weight_events,
            Signal.ROWS_READ: self.weight_rows_read,
            Signal.NEW_IP: self.weight_new_ip,
            Signal.OFF_HOURS: self.weight_off_hours,
            Signal.SENSITIVE: self.weight_sensitive,
            Signal.EXPORTS: self.weight_exports,
        }[signal]


_USER_DAYS_SQL = """
    select user_id, activity_date - %s::date as day_index, events_count, rows_read, off_hours_events_count,
           sensitive_object_events_count, export_count, new_ip_count
    from marts.fct_user_days
    where activity_date between %s and %s
"""
_USER_DAYS_TYPES = {
    "user_id": "str",
    "day_index": "int64",
    "events_count": "float64",
    "rows_read": "float64",
    "off_hours_events_count": "float64",
    "sensitive_object_events_count": "float64",
    "export_count": "float64",
    "new_ip_count": "float64",
}


@dataclass(frozen=True)
class PoissonBaseline:
    """log E[events] = user effect + day-of-week effect (Monday is the base day)."""

    users: pd.Index  # user ids, in the order of ``user_effect``
    user_effect: np.ndarray  # log scale; -inf for users with no baseline events
    dow_params: np.ndarray  # const, Tue..Sun (log scale)
    dispersion: float  # Pearson chi2 / residual df, floored at 1
    llf: float
    deviance: float
    n_obs: int
    trimmed: int  # baseline days left out of the refit
    iterations: int
    converged: bool

    def expected(self, user_codes: np.ndarray, dow: np.ndarray) -> np.ndarray:
        return np.exp(self.user_effect[user_codes] + _dow_design(dow) @ self.dow_params)


def _dow_design(dow: np.ndarray) -> np.ndarray:
    """Intercept plus one dummy per weekday after Monday."""
    x = np.zeros((len(dow), 7))
    x[:, 0] = 1.0
    rows = np.flatnonzero(dow > 0)
    x[rows, dow[rows]] = 1.0
    return x


def upper_tail_p(
    observed: np.ndarray, expected: np.ndarray, dispersion: float | np.ndarray = 1.0
) -> np.ndarray:
    """P(Y >= observed) for Y ~ Poisson(expected); with dispersion phi > 1 its quasi-Poisson version
    (Poisson(expected / phi) at observed / phi). Computed as the regularised lower incomplete gamma
    P(Poisson(m) >= k) = gammainc(k, m), which is exact for integer k and continuous in between."""
    observed = np.asarray(observed, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    phi = np.asarray(dispersion, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        tail = gammainc(np.maximum(observed, 1e-12) / phi, expected / phi)
    return np.where(observed > 0, tail, 1.0)


def _fit_once(
    y: np.ndarray, users: np.ndarray, dow: np.ndarray, n_users: int, config: AccessBaselineConfig
) -> tuple[np.ndarray, np.ndarray, int, bool]:
    """Joint Poisson MLE of user + day-of-week effects by block coordinate ascent.

    Given the day-of-week coefficients, each user's effect has a closed form (log of the user's total over the
    sum of their day factors); given the user effects (as an offset), the day-of-week coefficients are a
    statsmodels Poisson GLM. Alternating the two converges to the joint maximum likelihood. The GLM runs on
    (user, weekday) cells with log(days in the cell) as exposure: the same likelihood, 7 rows per user.
    """
    cell = users * 7 + dow
    cell_y = np.bincount(cell, weights=y, minlength=n_users * 7)
    cell_days = np.bincount(cell, minlength=n_users * 7).astype(np.float64)
    cell_user = np.repeat(np.arange(n_users), 7)
    cell_dow = np.tile(np.arange(7), n_users)
    totals = np.bincount(cell_user, weights=cell_y, minlength=n_users)
    # a user without events has effect -inf and tells nothing about weekdays; empty cells carry no data
    used = (cell_days > 0) & (totals[cell_user] > 0)
    x = _dow_design(cell_dow)
    with np.errstate(divide="ignore"):
        alpha = np.log(totals / np.maximum(np.bincount(cell_user, weights=cell_days, minlength=n_users), 1))
    beta = np.zeros(7)
    converged, iterations = False, 0
    if not used.any():
        return alpha, beta, iterations, True
    for iterations in range(1, config.backfit_max_iter + 1):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = sm.GLM(
                cell_y[used],
                x[used],
                family=sm.families.Poisson(),
                offset=alpha[cell_user[used]],
                exposure=cell_days[used],
            ).fit(start_params=beta)
        beta = np.asarray(result.params)
        day_factor = np.bincount(cell_user, weights=cell_days * np.exp(x @ beta), minlength=n_users)
        with np.errstate(divide="ignore"):
            new_alpha = np.log(totals) - np.log(day_factor)
        finite = np.isfinite(new_alpha)
        change = float(np.max(np.abs(new_alpha[finite] - alpha[finite]))) if finite.any() else 0.0
        alpha = new_alpha
        if change < config.backfit_tol:
            converged = True
            break
    # fold the GLM intercept into the user effects: the day-of-week effects stay relative to Monday
    return alpha + beta[0], np.r_[0.0, beta[1:]], iterations, converged


def fit_baseline(frame: pd.DataFrame, config: AccessBaselineConfig) -> PoissonBaseline:
    """Fit the events GLM on the baseline rows (``user_id``, ``dow``, ``events_count``), trimmed once."""
    codes, users = pd.factorize(frame["user_id"], sort=True)
    y = frame["events_count"].to_numpy(dtype=np.float64)
    dow = frame["dow"].to_numpy(dtype=np.int64)
    alpha, beta, _, _ = _fit_once(y, codes, dow, len(users), config)
    mu = np.exp(alpha[codes] + _dow_design(dow) @ beta)
    dispersion = _dispersion(y, mu, len(users))
    keep = upper_tail_p(y, mu, dispersion) >= config.trim_p_value
    alpha, beta, iterations, converged = _fit_once(y[keep], codes[keep], dow[keep], len(users), config)
    mu = np.exp(alpha[codes[keep]] + _dow_design(dow[keep]) @ beta)
    dispersion = _dispersion(y[keep], mu, len(users))
    llf = float(np.sum(poisson.logpmf(y[keep], np.maximum(mu, 1e-300))))
    with np.errstate(divide="ignore", invalid="ignore"):
        deviance = float(2 * np.sum(np.where(y[keep] > 0, y[keep] * np.log(y[keep] / mu), 0.0) - (y[keep] - mu)))
    return PoissonBaseline(
        users=pd.Index(users),
        user_effect=alpha,
        dow_params=beta,
        dispersion=dispersion,
        llf=llf,
        deviance=deviance,
        n_obs=int(keep.sum()),
        trimmed=int((~keep).sum()),
        iterations=iterations,
        converged=converged,
    )


def _dispersion(y: np.ndarray, mu: np.ndarray, n_users: int) -> float:
    """Pearson chi2 over residual degrees of freedom, floored at 1 (never narrower than Poisson)."""
    fitted = mu > 0
    df = max(int(fitted.sum()) - n_users - 6, 1)
    chi2 = float(np.sum((y[fitted] - mu[fitted]) ** 2 / mu[fitted]))
    return max(chi2 / df, 1.0)


def _ramp(x: np.ndarray, start: float, full: float) -> np.ndarray:
    """0 below ``start``, 1 above ``full``, linear between."""
    return np.clip((np.asarray(x, dtype=np.float64) - start) / (full - start), 0.0, 1.0)


def _reference_rows(baseline: pd.DataFrame, as_of: dt.date, config: AccessBaselineConfig) -> pd.DataFrame:
    """Each user's baseline days of the same kind as ``as_of`` (weekday / weekend), or all their days when
    they have fewer than ``min_same_kind_days`` of that kind."""
    same = baseline["dow"].isin(WEEKEND) == (as_of.weekday() in WEEKEND)
    same_count = same.groupby(baseline["user_id"]).transform("sum")
    return baseline[same | (same_count < config.min_same_kind_days)]


def _robust_log_baseline(reference: pd.DataFrame, column: str, floor: float) -> pd.DataFrame:
    """Per user: median and robust sd (1.4826 x MAD, floored) of log1p(column)."""
    logs = np.log1p(reference[column].clip(lower=0.0))
    median = logs.groupby(reference["user_id"]).median()
    mad = (logs - reference["user_id"].map(median)).abs().groupby(reference["user_id"]).median()
    return pd.DataFrame({"median": median, "sd": np.maximum(MAD_TO_SD * mad, floor)})


def _count_baseline(reference: pd.DataFrame, column: str, config: AccessBaselineConfig) -> pd.DataFrame:
    """Per user: a robust rate (mean after capping each day at the user's upper quantile, so one past
    incident does not inflate it) and its dispersion (variance / mean, at least 1)."""
    groups = reference[column].groupby(reference["user_id"])
    cap = reference["user_id"].map(groups.quantile(config.count_winsor_quantile))
    capped = np.minimum(reference[column], cap).groupby(reference["user_id"])
    rate = capped.mean()
    dispersion = (capped.var(ddof=1) / rate.where(rate > 0)).fillna(1.0).clip(lower=1.0)
    return pd.DataFrame({"rate": np.maximum(rate, config.min_expected_events), "dispersion": dispersion})


def _ratio_strength(
    observed: np.ndarray, expected: np.ndarray, p_value: np.ndarray, start: float, full: float, alpha: float
) -> np.ndarray:
    """Strength of a count above its expectation: log-ratio ramp, only when the excess is significant."""
    ratio = np.maximum(observed, 1e-12) / expected
    return np.where(p_value < alpha, _ramp(np.log(ratio), np.log(start), np.log(full)), 0.0)


def compute(
    conn: psycopg2.extensions.connection, as_of: dt.date, config: AccessBaselineConfig | None = None
) -> IndicatorResult:
    """Risk score (0-100) of each user's activity on ``as_of`` against their trailing baseline."""
    config = config or AccessBaselineConfig.from_env()
    start = as_of - dt.timedelta(days=config.baseline_days)
    frame = read_frame_by_copy(conn, _USER_DAYS_SQL, (start, start, as_of), _USER_DAYS_TYPES).fillna(0.0)
    frame["dow"] = (frame["day_index"] + start.weekday()) % 7
    baseline = frame[frame["day_index"] < config.baseline_days]
    history_days = int(baseline["day_index"].nunique())
    if history_days < config.min_history_days:
        raise InsufficientHistoryError(INDICATOR, config.min_history_days, history_days)

    training_start = start + dt.timedelta(days=int(baseline["day_index"].min()))
    training_end = start + dt.timedelta(days=int(baseline["day_index"].max()))
    user_days = baseline.groupby("user_id").size()
    eligible = user_days[user_days >= config.min_history_days].index
    baseline = baseline[baseline["user_id"].isin(eligible)].sort_values(["user_id", "day_index"])
    baseline = baseline.reset_index(drop=True)
    today = frame[frame["day_index"] == config.baseline_days].set_index("user_id").sort_index()
    skipped = sorted(set(today.index) - set(eligible))
    today = today[today.index.isin(eligible)]
    users = today.index
    fit = fit_baseline(baseline, config)
    reference = _reference_rows(baseline, as_of, config)

    observed: dict[Signal, np.ndarray] = {s: today[_COLUMNS[s][0]].to_numpy(dtype=np.float64) for s in Signal}
    expected: dict[Signal, np.ndarray] = {}
    p_values: dict[Signal, np.ndarray] = {}
    strength: dict[Signal, np.ndarray] = {}

    # events: the GLM's expectation for this user on this weekday
    codes = fit.users.get_indexer(users)
    mu = np.maximum(fit.expected(codes, np.full(len(codes), as_of.weekday())), config.min_expected_events)
    expected[Signal.EVENTS] = mu
    p_values[Signal.EVENTS] = upper_tail_p(observed[Signal.EVENTS], mu, fit.dispersion)
    strength[Signal.EVENTS] = _ratio_strength(
        observed[Signal.EVENTS], mu, p_values[Signal.EVENTS],
        config.events_ratio_start, config.events_ratio_full, config.events_alpha,
    )
    # low counts (off hours, sensitive objects, exports): quasi-Poisson tail against the user's robust rate
    for signal in _COUNT_SIGNALS:
        base = _count_baseline(reference, _COLUMNS[signal][0], config).reindex(users)
        rate, dispersion = base["rate"].to_numpy(), base["dispersion"].to_numpy()
        expected[signal] = rate
        p_values[signal] = upper_tail_p(observed[signal], rate, dispersion)
        strength[signal] = _ratio_strength(
            observed[signal], rate, p_values[signal], config.count_ratio_start, config.count_ratio_full,
            config.events_alpha,
        )
    # volume (rows read): robust z on the log1p scale against the user's median / MAD
    rows = _robust_log_baseline(reference, "rows_read", config.log_sd_floor).reindex(users)
    rows_log = np.log1p(np.maximum(observed[Signal.ROWS_READ], 0.0))
    rows_z = (rows_log - rows["median"].to_numpy()) / rows["sd"].to_numpy()
    expected[Signal.ROWS_READ] = np.expm1(rows["median"].to_numpy())
    strength[Signal.ROWS_READ] = _ramp(rows_z, config.robust_z_start, config.robust_z_full)
    # a new IP address is a signal whatever the baseline
    expected[Signal.NEW_IP] = np.zeros(len(users))
    strength[Signal.NEW_IP] = (observed[Signal.NEW_IP] > 0).astype(np.float64)

    scores = sum(config.weight(s) * strength[s] for s in Signal)
    history = baseline.groupby("user_id").size()
    values: list[IndicatorValue] = []
    alerts: list[Alert] = []
    for k, user in enumerate(users):
        score = float(scores[k]) if len(users) else 0.0
        values.append(IndicatorValue(EntityType.USER, str(user), score, config.alert_medium_score))
        severity = severity_for(score, config.alert_medium_score, config.alert_high_score)
        if severity is None:
            continue
        threshold = config.alert_high_score if severity is Severity.HIGH else config.alert_medium_score
        moved = []
        for signal in Signal:
            if strength[signal][k] <= 0:
                continue
            words, seen, base = _COLUMNS[signal][1], observed[signal][k], expected[signal][k]
            if signal is Signal.NEW_IP:
                detail = f"{fmt(seen)} new IP address(es) for this user"
            elif signal is Signal.ROWS_READ:
                ratio = (seen + 1) / (base + 1)
                detail = f"{words} {fmt(seen)} vs median {fmt(round(base))} ({ratio:.0f}x, robust z {rows_z[k]:.1f})"
            else:
                basis = "expected" if signal is Signal.EVENTS else "usual"
                detail = (
                    f"{words} {fmt(seen)} vs {basis} {base:.1f} ({seen / base:.1f}x, p={p_values[signal][k]:.1g})"
                )
            moved.append(f"{detail} [+{config.weight(signal) * strength[signal][k]:.0f}]")
        alerts.append(
            Alert(
                EntityType.USER,
                str(user),
                score,
                threshold,
                severity,
                f"Access risk score {score:.0f}/100 crossed {threshold:.0f} against the user's own trailing "
                f"{config.baseline_days}-day baseline ({int(history[user])} days, {as_of.isoformat()} excluded): "
                + "; ".join(moved)
                + ".",
            )
        )

    finite_effects = fit.user_effect[np.isfinite(fit.user_effect)]
    run = ModelRun(
        indicator=INDICATOR,
        domain=DOMAIN,
        as_of_date=as_of,
        model_class="statsmodels.genmod.generalized_linear_model.GLM(family=Poisson): user + day-of-week effects",
        training_start=training_start,
        training_end=training_end,
        n_obs=fit.n_obs,
        params={
            "dow_effect": dict(zip(_DOW_NAMES, fit.dow_params.tolist())),
            "user_effect_quantiles": dict(zip(("min", "median", "max"), np.quantile(finite_effects, [0, 0.5, 1])))
            if len(finite_effects)
            else {},
            "weights": {s.value: config.weight(s) for s in Signal},
            "baseline_days": config.baseline_days,
            "alert_medium_score": config.alert_medium_score,
            "alert_high_score": config.alert_high_score,
        },
        fit_stats={
            "llf": fit.llf,
            "deviance": fit.deviance,
            "dispersion": fit.dispersion,
            "baseline_days_trimmed": fit.trimmed,
            "backfit_iterations": fit.iterations,
            "converged": fit.converged,
            "users_in_baseline": len(fit.users),
            "users_scored": len(users),
            "users_skipped_short_history": len(skipped),
            "history_days": history_days,
            "alerts": len(alerts),
        },
        data_hash=data_hash(baseline.drop(columns=["dow"])),
    )
    return IndicatorResult(run, values, alerts)
