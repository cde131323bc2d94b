"""The access risk score: one per user-day, the weighted sum of signal strengths, alerts within a daily budget.

Each signal compares the user's day with a baseline fitted on the trailing ``baseline_days`` *before* ``as_of``
(the tested day is never in its own baseline) and gives a strength in [0, 1]: a ramp on the log ratio or z,
only when the excess is significant. The score is min(100, sum of weight x strength). No signal weighs more
than ``alert_medium_score`` alone (a busy 2x day, a login from a new IP stay under it); several together (an
insider-like day) cross it. Of the users over the threshold, at most ``daily_alert_budget`` are alerted, the
highest scores first; every alert names each signal that moved, by how much, against which baseline.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
import pandas as pd
from scipy.stats import norm

from warning_models.access import baselines as bl
from warning_models.access.features import AccessWindow
from warning_models.errors import InsufficientHistoryError
from warning_models.indicators.base import (
    Alert,
    EntityType,
    IndicatorValue,
    Severity,
    config_from_env,
    fmt,
    severity_for,
)

SIGNAL_TABLE = "warning.access_signal_days"
SIGNAL_COLUMNS = ("as_of_date", "user_id", "signal", "observed", "expected", "baseline", "p_value", "strength", "points")


class Signal(StrEnum):
    """A behaviour the access score weighs."""

    EVENTS = "events"
    ROWS_READ = "rows_read"
    NEW_NETWORK = "new_network"
    NEW_IP = "new_ip"
    OFF_HOURS = "off_hours"
    SENSITIVE = "sensitive_objects"
    NEW_SENSITIVE_OBJECT = "new_sensitive_object"
    EXPORTS = "exports"
    FAILED_LOGIN_BURST = "failed_login_burst"


# signal -> (fct_user_days column, words in explanations)
COLUMNS: dict[Signal, tuple[str, str]] = {
    Signal.EVENTS: ("events_count", "events"),
    Signal.ROWS_READ: ("rows_read", "rows read"),
    Signal.NEW_NETWORK: ("new_network_count", "new client network(s)"),
    Signal.NEW_IP: ("new_ip_count", "new IP address(es) in known networks"),
    Signal.OFF_HOURS: ("off_hours_events_count", "events in the user's unusual hours"),
    Signal.SENSITIVE: ("sensitive_object_events_count", "sensitive-object events"),
    Signal.NEW_SENSITIVE_OBJECT: ("new_sensitive_object_count", "sensitive object(s) never touched before"),
    Signal.EXPORTS: ("export_count", "exports"),
    Signal.FAILED_LOGIN_BURST: ("max_session_failed_logins_count", "failed logins in one session"),
}
_RATE_SIGNALS = (Signal.SENSITIVE, Signal.EXPORTS)
_DOW_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class AccessScoreConfig:
    """Settings of the access score; each can be set with ``EWS_ACCESS_<FIELD>``."""

    baseline_days: int = 56  # trailing window before as_of (8 of each weekday)
    min_history_days: int = 14  # fewer baseline days overall: not scored; fewer for a user: peer baseline
    min_same_kind_days: int = 8  # fewer baseline weekdays/weekend days: robust baselines use all days
    backfit_max_iter: int = 50
    backfit_tol: float = 1e-8
    trim_p_value: float = 1e-4  # baseline days less likely than this under the first fit are left out
    overdispersion_t: float = 2.33  # Cameron-Trivedi t above which counts are negative binomial (one-sided 1 %)
    min_expected_events: float = 0.5  # floor of an expected count (users with almost no history)
    events_alpha: float = 0.01  # a count signal needs a tail p-value below this
    events_ratio_start: float = 1.5  # observed/expected where the events signal starts
    events_ratio_full: float = 4.0  # ... and reaches full strength
    count_ratio_start: float = 2.0  # unusual-hours / sensitive / export count over its baseline: starts
    count_ratio_full: float = 6.0  # ... and reaches full strength
    count_winsor_quantile: float = 0.9  # baseline days are capped at the user's quantile before the rate
    robust_z_start: float = 3.0  # robust z of rows read (log1p scale) where the signal starts
    robust_z_full: float = 6.0  # ... and reaches full strength
    log_sd_floor: float = 0.5  # floor of the robust sd on the log1p scale (a factor of about 1.65)
    hour_prior_events: float = 2.0  # empirical-Bayes weight of the common hour profile in a user's own
    unusual_hour_share: float = 0.01  # an hour with less than this share of the user's expected day is unusual
    stl_min_seasonal_strength: float = 0.6  # STL baseline of rows read where the series is this seasonal (>1: never)
    stl_period: int = 7
    burst_start_failed_logins: int = 3  # failed logins in one session where the burst signal starts
    burst_full_failed_logins: int = 8  # ... and reaches full strength
    weight_events: float = 20.0
    weight_rows_read: float = 20.0
    weight_new_network: float = 15.0
    weight_new_ip: float = 5.0
    weight_off_hours: float = 15.0
    weight_sensitive: float = 15.0
    weight_new_sensitive_object: float = 10.0
    weight_exports: float = 15.0
    weight_failed_login_burst: float = 10.0
    alert_medium_score: float = 35.0
    alert_high_score: float = 60.0
    daily_alert_budget: int = 5  # most alerts a day, highest scores first (0: no limit)

    def __post_init__(self) -> None:
        if self.daily_alert_budget < 0:
            raise ValueError("daily_alert_budget must be >= 0")
        if self.burst_full_failed_logins <= self.burst_start_failed_logins:
            raise ValueError("burst_full_failed_logins must exceed burst_start_failed_logins")
        heaviest = max(self.weight(s) for s in Signal)
        if heaviest >= self.alert_medium_score:
            raise ValueError(f"a single signal (weight {heaviest}) must stay under alert_medium_score")

    @classmethod
    def from_env(cls) -> "AccessScoreConfig":
        return config_from_env(cls, "ACCESS")

    def weight(self, signal: Signal) -> float:
        return float(getattr(self, _WEIGHT_FIELDS[signal]))


_WEIGHT_FIELDS: dict[Signal, str] = {
    Signal.EVENTS: "weight_events",
    Signal.ROWS_READ: "weight_rows_read",
    Signal.NEW_NETWORK: "weight_new_network",
    Signal.NEW_IP: "weight_new_ip",
    Signal.OFF_HOURS: "weight_off_hours",
    Signal.SENSITIVE: "weight_sensitive",
    Signal.NEW_SENSITIVE_OBJECT: "weight_new_sensitive_object",
    Signal.EXPORTS: "weight_exports",
    Signal.FAILED_LOGIN_BURST: "weight_failed_login_burst",
}


@dataclass
class SignalFrame:
    """Per scored user: observed value, baseline value, tail p-value, strength and which baseline, per signal."""

    users: pd.Index
    observed: dict[Signal, np.ndarray] = field(default_factory=dict)
    expected: dict[Signal, np.ndarray] = field(default_factory=dict)
    p_value: dict[Signal, np.ndarray] = field(default_factory=dict)
    strength: dict[Signal, np.ndarray] = field(default_factory=dict)
    baseline: dict[Signal, np.ndarray] = field(default_factory=dict)  # object arrays of short descriptions
    detail: dict[Signal, np.ndarray] = field(default_factory=dict)  # extra words per user (objects, hours)
    params: dict[str, object] = field(default_factory=dict)  # model parameters for the run's params
    fit_stats: dict[str, object] = field(default_factory=dict)  # and its fit statistics

    def put(
        self, signal: Signal, observed: np.ndarray, expected: np.ndarray, strength: np.ndarray, baseline: str | np.ndarray,
        p_value: np.ndarray | None = None,
    ) -> None:
        n = len(self.users)
        self.observed[signal] = np.asarray(observed, dtype=np.float64)
        self.expected[signal] = np.asarray(expected, dtype=np.float64)
        self.strength[signal] = np.nan_to_num(np.asarray(strength, dtype=np.float64))
        self.p_value[signal] = np.full(n, np.nan) if p_value is None else np.asarray(p_value, dtype=np.float64)
        self.baseline[signal] = np.full(n, baseline, dtype=object) if isinstance(baseline, str) else baseline


@dataclass(frozen=True)
class ScoreResult:
    """Everything the access score produced for one as-of date."""

    values: list[IndicatorValue]
    alerts: list[Alert]
    signal_rows: list[tuple[object, ...]]
    params: dict[str, object]
    fit_stats: dict[str, object]
    training_start: dt.date
    training_end: dt.date
    n_obs: int
    baseline: pd.DataFrame


def ramp(x: np.ndarray, start: float, full: float) -> np.ndarray:
    """0 below ``start``, 1 above ``full``, linear between."""
    return np.clip((np.asarray(x, dtype=np.float64) - start) / (full - start), 0.0, 1.0)


def ratio_strength(
    observed: np.ndarray, expected: np.ndarray, p_value: np.ndarray, start: float, full: float, alpha: float
) -> np.ndarray:
    """Strength of a count above its expectation: log-ratio ramp, only when the excess is significant."""
    ratio = np.maximum(observed, 1e-12) / expected
    return np.where(p_value < alpha, ramp(np.log(ratio), np.log(start), np.log(full)), 0.0)


def score_window(window: AccessWindow, config: AccessScoreConfig) -> ScoreResult:
    """Score every user active in the window on ``window.as_of``."""
    as_of, start, c = window.as_of, window.start, config
    frame = window.user_days
    baseline = frame[frame["day_index"] < c.baseline_days]
    history_days = int(baseline["day_index"].nunique())
    if history_days < c.min_history_days:
        raise InsufficientHistoryError("access_activity_baseline", c.min_history_days, history_days)
    training_start = start + dt.timedelta(days=int(baseline["day_index"].min()))
    training_end = start + dt.timedelta(days=int(baseline["day_index"].max()))
    user_days = baseline.groupby("user_id").size()
    own = user_days[user_days >= c.min_history_days].index
    baseline = baseline[baseline["user_id"].isin(own)].sort_values(["user_id", "day_index"]).reset_index(drop=True)
    today = frame[frame["day_index"] == c.baseline_days].set_index("user_id").sort_index()
    # users with some history but less than min_history_days get the peer-group baseline; none at all: skipped
    short = today.index.isin(user_days.index) & ~today.index.isin(own)
    peer_scored = today.index[short & today.index.isin(window.peer_groups.index)]
    skipped = sorted(set(today.index) - set(own) - set(peer_scored))
    today = today[today.index.isin(own) | today.index.isin(peer_scored)]
    users = today.index
    s = SignalFrame(users)
    weekday = as_of.weekday()
    own_mask = users.isin(own)

    # events: user-day GLM (Poisson, NB2 tail when overdispersed); peers' GLM for users with a short history
    fit = bl.fit_user_day_glm(
        baseline, trim_p_value=c.trim_p_value, max_iter=c.backfit_max_iter, tol=c.backfit_tol,
        t_crit=c.overdispersion_t,
    )
    peer_rows = frame[(frame["day_index"] < c.baseline_days)].assign(
        peer_group=lambda f: f["user_id"].map(window.peer_groups)
    ).dropna(subset=["peer_group"])
    peers = bl.fit_peer_group_glm(peer_rows) if len(peer_rows) else None
    codes = fit.users.get_indexer(users)
    mu = np.full(len(users), np.nan)
    if own_mask.any():
        mu[own_mask] = fit.expected(codes[own_mask], np.full(int(own_mask.sum()), weekday))
    group_of = users.map(window.peer_groups).to_numpy(dtype=object)
    peer_mu = np.array(
        [peers.expected(str(g), weekday) if peers is not None and isinstance(g, str) else None for g in group_of],
        dtype=np.float64,
    )
    mu = np.where(own_mask, mu, peer_mu)
    mu = np.maximum(np.nan_to_num(mu, nan=c.min_expected_events), c.min_expected_events)
    observed = today["events_count"].to_numpy(dtype=np.float64)
    p = fit.upper_tail(observed, mu)
    family = "NB2" if fit.overdispersion.is_overdispersed else "Poisson"
    s.put(
        Signal.EVENTS, observed, mu,
        ratio_strength(observed, mu, p, c.events_ratio_start, c.events_ratio_full, c.events_alpha),
        np.where(own_mask, f"user-day {family} GLM (user + day of week)",
                 "peer-group Poisson GLM (group + day of week)").astype(object),
        p,
    )

    reference = bl.reference_rows(baseline, weekday, c.min_same_kind_days)

    # unusual hours: the user-hour GLM (hour of day + day of week, user-adjusted by empirical Bayes)
    _unusual_hours(s, window, baseline, today, own_mask, c)

    # sensitive-object events and exports: the user's robust rate on days of the same kind, quasi-Poisson tail
    for signal in _RATE_SIGNALS:
        column = COLUMNS[signal][0]
        base = bl.count_baseline(reference, column, c.count_winsor_quantile, c.min_expected_events).reindex(users)
        rate, dispersion = base["rate"].to_numpy(), base["dispersion"].to_numpy()
        seen = today[column].to_numpy(dtype=np.float64)
        p = bl.upper_tail_p(seen, rate, dispersion)
        strength = np.where(
            own_mask, ratio_strength(seen, rate, p, c.count_ratio_start, c.count_ratio_full, c.events_alpha), 0.0
        )
        s.put(signal, seen, rate, strength, "user's robust daily rate (same kind of day)", p)

    # rows read: robust z on the log1p scale, against STL where the user's series is seasonal
    _rows_read(s, baseline, reference, today, own_mask, c)

    # novelty: a new network weighs fully, a new IP inside a known network a little
    new_net = today["new_network_count"].to_numpy(dtype=np.float64)
    new_ip = today["new_ip_count"].to_numpy(dtype=np.float64)
    s.put(Signal.NEW_NETWORK, new_net, np.zeros(len(users)), (new_net > 0).astype(float), "networks the user was seen on")
    s.put(
        Signal.NEW_IP, new_ip - new_net, np.zeros(len(users)), ((new_ip > new_net) & (new_net == 0)).astype(float),
        "IPs the user was seen with",
    )
    _new_sensitive_objects(s, window, today)

    # failed-login burst: several failed logins in one session, beyond the user's largest in the baseline
    burst = today["max_session_failed_logins_count"].to_numpy(dtype=np.float64)
    usual = baseline.groupby("user_id")["max_session_failed_logins_count"].max().reindex(users).fillna(0.0)
    usual = usual.to_numpy(dtype=np.float64)
    strength = np.where(
        burst > usual,
        ramp(burst, c.burst_start_failed_logins - 1, c.burst_full_failed_logins),
        0.0,
    )
    s.put(Signal.FAILED_LOGIN_BURST, burst, usual, strength, "user's largest burst in the baseline")

    values, alerts, rows, over_budget = _score_and_alert(s, as_of, c, user_days)
    finite_effects = fit.user_effect[np.isfinite(fit.user_effect)]
    params: dict[str, object] = {
        "dow_effect": dict(zip(_DOW_NAMES, fit.dow_params.tolist())),
        "user_effect_quantiles": dict(zip(("min", "median", "max"), np.quantile(finite_effects, [0, 0.5, 1])))
        if len(finite_effects) else {},
        "events_family": fit.overdispersion.family,
        "events_nb_alpha": fit.overdispersion.alpha,
        "peer_group_effect": dict(zip(peers.groups.tolist(), peers.group_effect.tolist())) if peers else {},
        "weights": {sig.value: c.weight(sig) for sig in Signal},
        "baseline_days": c.baseline_days,
        "alert_medium_score": c.alert_medium_score,
        "alert_high_score": c.alert_high_score,
        "daily_alert_budget": c.daily_alert_budget,
        **s.params,
    }
    fit_stats: dict[str, object] = {
        "llf": fit.llf,
        "deviance": fit.deviance,
        "dispersion": fit.dispersion,
        "events_overdispersion_t": fit.overdispersion.t_stat,
        "baseline_days_trimmed": fit.trimmed,
        "backfit_iterations": fit.iterations,
        "converged": fit.converged,
        "users_in_baseline": len(fit.users),
        "users_scored": len(users),
        "users_scored_by_peer_group": len(peer_scored),
        "users_skipped_short_history": len(skipped),
        "history_days": history_days,
        "alerts": len(alerts),
        "alerts_over_budget": over_budget,
        **s.fit_stats,
    }
    return ScoreResult(values, alerts, rows, params, fit_stats, training_start, training_end, fit.n_obs, baseline)


def _unusual_hours(
    s: SignalFrame, window: AccessWindow, baseline: pd.DataFrame, today: pd.DataFrame, own_mask: np.ndarray,
    c: AccessScoreConfig,
) -> None:
    users, weekday = s.users, window.as_of.weekday()
    hours = window.user_hours
    n = len(users)
    observed_hours = np.zeros((n, bl.HOURS))
    todays = hours[(hours["day_index"] == c.baseline_days) & hours["user_id"].isin(users)]
    np.add.at(
        observed_hours,
        (users.get_indexer(todays["user_id"]), todays["hour_of_day"].to_numpy(dtype=np.int64)),
        todays["events_count"].to_numpy(dtype=np.float64),
    )
    observed = np.zeros(n)
    expected = np.full(n, c.min_expected_events)
    p = np.ones(n)
    strength = np.zeros(n)
    words = np.full(n, "", dtype=object)
    if len(baseline):
        profile = bl.fit_user_hour_glm(
            hours[hours["day_index"] < c.baseline_days], baseline[["user_id", "day_index", "dow"]],
            prior_events=c.hour_prior_events, t_crit=c.overdispersion_t,
        )
        codes = profile.users.get_indexer(users)
        known = own_mask & (codes >= 0) & np.isfinite(profile.user_offset[np.maximum(codes, 0)])
        if known.any():
            mu = profile.expected(codes[known], weekday)
            share = mu / mu.sum(axis=1, keepdims=True)
            unusual = share < c.unusual_hour_share
            observed[known] = (observed_hours[known] * unusual).sum(axis=1)
            expected[known] = np.maximum((mu * unusual).sum(axis=1), c.min_expected_events)
            p[known] = bl.nb_upper_tail_p(observed[known], expected[known], profile.overdispersion.tail_alpha)
            strength[known] = ratio_strength(
                observed[known], expected[known], p[known], c.count_ratio_start, c.count_ratio_full, c.events_alpha
            )
            for k, row, flags in zip(np.flatnonzero(known), observed_hours[known], unusual):
                hit = np.flatnonzero((row > 0) & flags)
                words[k] = ", ".join(f"{h:02d}h" for h in hit[:6]) + (" ..." if len(hit) > 6 else "")
        s.params.update(
            hour_effect=profile.hour_params.tolist(),
            hour_family=profile.overdispersion.family,
            hour_nb_alpha=profile.overdispersion.alpha,
        )
        s.fit_stats.update(
            hour_glm_converged=profile.converged,
            hour_glm_user_hours=profile.n_obs,
            hour_overdispersion_t=profile.overdispersion.t_stat,
        )
        family = "NB2" if profile.overdispersion.is_overdispersed else "Poisson"
    else:
        family = "Poisson"
    s.put(Signal.OFF_HOURS, observed, expected, strength, f"user-hour {family} GLM (hour + day of week, user profile)", p)
    s.detail[Signal.OFF_HOURS] = words


def _rows_read(
    s: SignalFrame, baseline: pd.DataFrame, reference: pd.DataFrame, today: pd.DataFrame, own_mask: np.ndarray,
    c: AccessScoreConfig,
) -> None:
    users = s.users
    robust = bl.robust_log_baseline(reference, "rows_read", c.log_sd_floor).reindex(users)
    level = robust["median"].to_numpy(dtype=np.float64, copy=True)
    sd = robust["sd"].to_numpy(dtype=np.float64, copy=True)
    kind = np.full(len(users), "user's median / MAD of log rows (same kind of day)", dtype=object)
    strengths = []
    if c.stl_min_seasonal_strength <= 1.0:
        series = {u: g["rows_read"].to_numpy(dtype=np.float64) for u, g in baseline.groupby("user_id", sort=False)}
        for k, user in enumerate(users):
            y = series.get(user)
            if y is None or len(y) < 2 * c.stl_period + 1 or not own_mask[k]:
                continue
            forecast = bl.stl_forecast(np.log1p(np.maximum(y, 0.0)), c.stl_period, c.log_sd_floor)
            strengths.append(forecast.seasonal_strength)
            if forecast.seasonal_strength >= c.stl_min_seasonal_strength:
                level[k], sd[k] = forecast.level, forecast.sd
                kind[k] = f"STL(robust, period {c.stl_period}) of log rows (seasonal strength {forecast.seasonal_strength:.2f})"
    observed = today["rows_read"].to_numpy(dtype=np.float64)
    z = (np.log1p(np.maximum(observed, 0.0)) - level) / sd
    strength = np.where(own_mask, ramp(z, c.robust_z_start, c.robust_z_full), 0.0)
    s.put(Signal.ROWS_READ, observed, np.expm1(level), strength, kind, p_value=norm.sf(np.nan_to_num(z)))
    s.detail[Signal.ROWS_READ] = np.array([f"robust z {v:.1f}" for v in np.nan_to_num(z)], dtype=object)
    s.fit_stats["rows_stl_users"] = int(sum(1 for v in kind if str(v).startswith("STL")))
    s.fit_stats["rows_seasonal_strength_median"] = float(np.median(strengths)) if strengths else None


def _new_sensitive_objects(s: SignalFrame, window: AccessWindow, today: pd.DataFrame) -> None:
    """Strength: 1 - the share of the user's peers who had used the object (a peer-common object weighs less)."""
    users = s.users
    new = window.new_sensitive_objects
    observed = today["new_sensitive_object_count"].to_numpy(dtype=np.float64)
    strength = np.zeros(len(users))
    peer_share = np.zeros(len(users))
    words = np.full(len(users), "", dtype=object)
    for user, group in new.groupby("user_id"):
        k = users.get_indexer([user])[0]
        if k < 0:
            continue
        peers = group["peers"].astype(float).to_numpy()
        using = group["peers_using"].astype(float).to_numpy()
        share = np.where(peers > 0, using / np.maximum(peers, 1), 0.0)
        strength[k] = float(np.max(1.0 - share))
        peer_share[k] = float(np.min(share))
        words[k] = ", ".join(
            f"{o} ({int(u)} of {int(p)} peers in {g})"
            for o, u, p, g in zip(group["object_name"], using, peers, group["peer_group"])
        )
    s.put(
        Signal.NEW_SENSITIVE_OBJECT, observed, peer_share, np.where(observed > 0, strength, 0.0),
        "objects the user touched before; share of peers using it",
    )
    s.detail[Signal.NEW_SENSITIVE_OBJECT] = words


def _explain(s: SignalFrame, k: int, signal: Signal, c: AccessScoreConfig) -> str:
    words = COLUMNS[signal][1]
    seen, base, p = s.observed[signal][k], s.expected[signal][k], s.p_value[signal][k]
    extra = s.detail.get(signal)
    extra_words = str(extra[k]) if extra is not None and extra[k] else ""
    points = c.weight(signal) * s.strength[signal][k]
    against = s.baseline[signal][k]
    if signal in (Signal.NEW_NETWORK, Signal.NEW_IP):
        text = f"{fmt(seen)} {words} (against the {against})"
    elif signal is Signal.NEW_SENSITIVE_OBJECT:
        text = f"{fmt(seen)} {words}: {extra_words}"
    elif signal is Signal.ROWS_READ:
        ratio = (seen + 1) / (base + 1)
        text = f"{words} {fmt(seen)} vs {fmt(round(base))} ({ratio:.0f}x, {extra_words}; {against})"
    elif signal is Signal.FAILED_LOGIN_BURST:
        text = f"{fmt(seen)} {words} vs at most {fmt(base)} before ({against})"
    else:
        hours = f" at {extra_words}" if extra_words else ""
        text = f"{words} {fmt(seen)}{hours} vs expected {base:.1f} ({seen / base:.1f}x, p={p:.1g}; {against})"
    return f"{text} [+{points:.0f}]"


def _score_and_alert(
    s: SignalFrame, as_of: dt.date, c: AccessScoreConfig, history: pd.Series
) -> tuple[list[IndicatorValue], list[Alert], list[tuple[object, ...]], int]:
    users = s.users
    points = {sig: c.weight(sig) * s.strength[sig] for sig in Signal}
    scores = np.minimum(100.0, sum(points.values())) if len(users) else np.zeros(0)
    values = [IndicatorValue(EntityType.USER, str(u), float(scores[k]), c.alert_medium_score) for k, u in enumerate(users)]
    rows: list[tuple[object, ...]] = []
    for sig in Signal:
        for k in np.flatnonzero(s.strength[sig] > 0):
            p = s.p_value[sig][k]
            rows.append((
                as_of, str(users[k]), sig.value, float(s.observed[sig][k]), float(s.expected[sig][k]),
                str(s.baseline[sig][k]), None if not np.isfinite(p) else float(p), float(s.strength[sig][k]),
                float(points[sig][k]),
            ))
    over = [k for k in range(len(users)) if severity_for(float(scores[k]), c.alert_medium_score, c.alert_high_score)]
    over.sort(key=lambda k: (-float(scores[k]), str(users[k])))
    budget = c.daily_alert_budget or len(over)
    alerts: list[Alert] = []
    for rank, k in enumerate(over[:budget], start=1):
        score = float(scores[k])
        severity = severity_for(score, c.alert_medium_score, c.alert_high_score)
        assert severity is not None
        threshold = c.alert_high_score if severity is Severity.HIGH else c.alert_medium_score
        moved = sorted((sig for sig in Signal if s.strength[sig][k] > 0), key=lambda sig: -points[sig][k])
        days = int(history.get(users[k], 0))
        alerts.append(
            Alert(
                EntityType.USER,
                str(users[k]),
                score,
                threshold,
                severity,
                f"Access risk score {score:.0f}/100 crossed {threshold:.0f} (rank {rank} of {len(over)} over the "
                f"threshold today, daily budget {c.daily_alert_budget or 'unlimited'}) against the trailing "
                f"{c.baseline_days}-day baselines ({days} days of the user's own, {as_of.isoformat()} excluded): "
                + "; ".join(_explain(s, k, sig, c) for sig in moved)
                + ".",
            )
        )
    return values, alerts, rows, max(0, len(over) - len(alerts))

