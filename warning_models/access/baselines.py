"""Access baselines: count GLMs (user-day, user-hour, peer group), robust and STL baselines, count tails.

- User-day events: a Poisson GLM with a user effect and day-of-week effects. The user effects are profiled out
  exactly (their Poisson score equations have a closed form), so each statsmodels fit carries only the
  day-of-week columns and the fit scales to thousands of users; the result is the joint maximum likelihood.
  Overdispersion is tested (Cameron-Trivedi); when it is significant the tail is negative binomial (NB2,
  Var = mu + alpha mu^2) around the same means, else Poisson.
- User-hour events: a GLM (Poisson, or NB2 when overdispersed) of the hourly counts, zeros included, with
  hour-of-day and day-of-week effects and the user's level as offset, then each user's own hour profile by
  empirical Bayes (observed + k) / (expected + k) per hour: what "unusual hours" means for this user.
- Peer groups: a Poisson GLM of daily events with a peer-group effect and day-of-week effects (statsmodels,
  dummies): the expectation for users with too short a history of their own.
- Rows read: robust z (median / MAD of log1p) on days of the same kind, or STL(period 7, robust) where the
  user's series is seasonal enough that the weekly pattern is worth modelling (seasonal strength >= a floor).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy.special import betainc, gammainc
from scipy.stats import poisson
from statsmodels.tsa.seasonal import STL

MAD_TO_SD = 1.4826  # MAD of a normal distribution times this is its standard deviation
WEEKEND = (5, 6)
HOURS = 24


# --------------------------------------------------------------------------------------------- count tails


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


def nb_upper_tail_p(observed: np.ndarray, expected: np.ndarray, alpha: float) -> np.ndarray:
    """P(Y >= observed) for Y ~ NB2(mean ``expected``, Var = mu + alpha mu^2); Poisson when alpha is 0.

    With r = 1 / alpha and p = r / (r + mu): P(Y >= k) = I_{1-p}(k, r), the regularised incomplete beta."""
    if alpha <= 0:
        return upper_tail_p(observed, expected)
    observed = np.asarray(observed, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    r = 1.0 / alpha
    with np.errstate(invalid="ignore", divide="ignore"):
        tail = betainc(np.maximum(observed, 1e-12), r, expected / (r + expected))
    return np.where(observed > 0, tail, 1.0)


@dataclass(frozen=True)
class Overdispersion:
    """Cameron-Trivedi test of Var = mu + alpha mu^2 against the Poisson's Var = mu."""

    alpha: float  # NB2 alpha by the auxiliary regression, floored at 0
    t_stat: float
    is_overdispersed: bool

    @property
    def family(self) -> str:
        return "negative_binomial" if self.is_overdispersed else "poisson"

    @property
    def tail_alpha(self) -> float:
        return self.alpha if self.is_overdispersed else 0.0


def overdispersion(y: np.ndarray, mu: np.ndarray, weights: np.ndarray | None = None, t_crit: float = 2.33) -> Overdispersion:
    """Regress ((y - mu)^2 - y) / mu on mu without intercept (OLS, frequency weights): slope alpha, its t."""
    w = np.ones_like(y) if weights is None else weights
    ok = mu > 1e-9
    y, mu, w = y[ok], mu[ok], w[ok]
    if len(y) < 3 or w.sum() < 3:
        return Overdispersion(0.0, 0.0, False)
    z = ((y - mu) ** 2 - y) / mu
    sxx = float(np.sum(w * mu * mu))
    alpha = float(np.sum(w * mu * z)) / sxx
    resid = z - alpha * mu
    sigma2 = float(np.sum(w * resid**2)) / max(float(w.sum()) - 1, 1)
    t_stat = alpha / np.sqrt(sigma2 / sxx) if sigma2 > 0 else 0.0
    return Overdispersion(max(alpha, 0.0), float(t_stat), bool(t_stat > t_crit and alpha > 0))


# ---------------------------------------------------------------------------------- user-day events GLM


@dataclass(frozen=True)
class PoissonBaseline:
    """log E[events] = user effect + day-of-week effect (Monday is the base day)."""

    users: pd.Index  # user ids, in the order of ``user_effect``
    user_effect: np.ndarray  # log scale; -inf for users with no baseline events
    dow_params: np.ndarray  # const, Tue..Sun (log scale)
    dispersion: float  # Pearson chi2 / residual df, floored at 1
    overdispersion: Overdispersion
    llf: float
    deviance: float
    n_obs: int
    trimmed: int  # baseline days left out of the refit
    iterations: int
    converged: bool

    def expected(self, user_codes: np.ndarray, dow: np.ndarray) -> np.ndarray:
        return np.exp(self.user_effect[user_codes] + dow_design(dow) @ self.dow_params)

    def upper_tail(self, observed: np.ndarray, expected: np.ndarray) -> np.ndarray:
        """NB2 tail when the baseline is overdispersed, else Poisson."""
        return nb_upper_tail_p(observed, expected, self.overdispersion.tail_alpha)


def dow_design(dow: np.ndarray) -> np.ndarray:
    """Intercept plus one dummy per weekday after Monday."""
    x = np.zeros((len(dow), 7))
    x[:, 0] = 1.0
    rows = np.flatnonzero(dow > 0)
    x[rows, dow[rows]] = 1.0
    return x


def _fit_once(
    y: np.ndarray, users: np.ndarray, dow: np.ndarray, n_users: int, max_iter: int, tol: float
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
    x = dow_design(cell_dow)
    with np.errstate(divide="ignore"):
        alpha = np.log(totals / np.maximum(np.bincount(cell_user, weights=cell_days, minlength=n_users), 1))
    beta = np.zeros(7)
    converged, iterations = False, 0
    if not used.any():
        return alpha, beta, iterations, True
    for iterations in range(1, max_iter + 1):
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
        if change < tol:
            converged = True
            break
    # fold the GLM intercept into the user effects: the day-of-week effects stay relative to Monday
    return alpha + beta[0], np.r_[0.0, beta[1:]], iterations, converged


def fit_user_day_glm(
    frame: pd.DataFrame, *, trim_p_value: float, max_iter: int = 50, tol: float = 1e-8, t_crit: float = 2.33
) -> PoissonBaseline:
    """Fit the events GLM on the baseline rows (``user_id``, ``dow``, ``events_count``), trimmed once: baseline
    days less likely than ``trim_p_value`` under the first fit are left out of the refit, so past incidents do
    not inflate the baseline."""
    codes, users = pd.factorize(frame["user_id"], sort=True)
    y = frame["events_count"].to_numpy(dtype=np.float64)
    dow = frame["dow"].to_numpy(dtype=np.int64)
    alpha, beta, _, _ = _fit_once(y, codes, dow, len(users), max_iter, tol)
    mu = np.exp(alpha[codes] + dow_design(dow) @ beta)
    dispersion = _dispersion(y, mu, len(users))
    keep = upper_tail_p(y, mu, dispersion) >= trim_p_value
    alpha, beta, iterations, converged = _fit_once(y[keep], codes[keep], dow[keep], len(users), max_iter, tol)
    mu = np.exp(alpha[codes[keep]] + dow_design(dow[keep]) @ beta)
    dispersion = _dispersion(y[keep], mu, len(users))
    llf = float(np.sum(poisson.logpmf(y[keep], np.maximum(mu, 1e-300))))
    with np.errstate(divide="ignore", invalid="ignore"):
        deviance = float(2 * np.sum(np.where(y[keep] > 0, y[keep] * np.log(y[keep] / mu), 0.0) - (y[keep] - mu)))
    return PoissonBaseline(
        users=pd.Index(users),
        user_effect=alpha,
        dow_params=beta,
        dispersion=dispersion,
        overdispersion=overdispersion(y[keep], mu, t_crit=t_crit),
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


# ------------------------------------------------------------------------------------------ peer groups


@dataclass(frozen=True)
class PeerGroupBaseline:
    """log E[events of a user-day] = peer-group effect + day-of-week effect (statsmodels Poisson GLM)."""

    groups: pd.Index
    group_effect: np.ndarray  # log scale, per group in ``groups`` order
    dow_params: np.ndarray  # Monday = 0, Tue..Sun
    n_obs: int
    converged: bool

    def expected(self, group: str, dow: int) -> float | None:
        if group not in self.groups:
            return None
        return float(np.exp(self.group_effect[self.groups.get_loc(group)] + self.dow_params[dow]))


def fit_peer_group_glm(frame: pd.DataFrame) -> PeerGroupBaseline:
    """Fit on (``peer_group``, ``dow``, ``events_count``) rows; groups and weekdays as dummies (no intercept),
    aggregated to (group, weekday) cells with log(days) as exposure: the same Poisson likelihood."""
    cells = frame.groupby(["peer_group", "dow"])["events_count"].agg(["sum", "size"]).reset_index()
    groups = pd.Index(sorted(cells["peer_group"].unique()))
    g = groups.get_indexer(cells["peer_group"])
    x = np.zeros((len(cells), len(groups) + 6))
    x[np.arange(len(cells)), g] = 1.0
    dow = cells["dow"].to_numpy()
    later = np.flatnonzero(dow > 0)
    x[later, len(groups) + dow[later] - 1] = 1.0
    # a group without a single event has no finite effect: it is left out of the fit
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = sm.GLM(
            cells["sum"].to_numpy(dtype=np.float64), x, family=sm.families.Poisson(),
            exposure=cells["size"].to_numpy(dtype=np.float64),
        ).fit()
    params = np.asarray(result.params)
    return PeerGroupBaseline(
        groups=groups,
        group_effect=params[: len(groups)],
        dow_params=np.r_[0.0, params[len(groups):]],
        n_obs=int(cells["size"].sum()),
        converged=bool(result.converged),
    )


# ------------------------------------------------------------------------------------ user-hour events


@dataclass(frozen=True)
class HourProfile:
    """Per user, the expected events in each UTC hour of a given weekday, from the user-hour GLM."""

    users: pd.Index
    hour_params: np.ndarray  # hour 0 = 0, hours 1..23 (log scale, common to all users)
    dow_params: np.ndarray  # Monday = 0, Tue..Sun
    user_offset: np.ndarray  # log of the user's mean events per hour in the baseline
    user_hour_factor: np.ndarray  # (users, 24): empirical-Bayes multiplier (observed + k) / (expected + k)
    overdispersion: Overdispersion
    n_obs: int
    converged: bool

    def expected(self, user_codes: np.ndarray, dow: int) -> np.ndarray:
        """(users, 24) expected events per hour on a day of weekday ``dow``."""
        base = np.exp(self.user_offset[user_codes, None] + self.hour_params[None, :] + self.dow_params[dow])
        return base * self.user_hour_factor[user_codes]


def fit_user_hour_glm(
    hours: pd.DataFrame, days: pd.DataFrame, *, prior_events: float, t_crit: float = 2.33
) -> HourProfile:
    """Fit the hour-of-day + day-of-week GLM on the baseline's user-hour series.

    ``hours``: (``user_id``, ``day_index``, ``hour_of_day``, ``events_count``) of the active hours;
    ``days``: (``user_id``, ``day_index``, ``dow``) of every baseline day, active or not, which puts the zeros
    in. Rows with the same user, weekday, hour and count carry the same likelihood term, so the GLM runs on
    them once with a frequency weight: exact, and a fraction of the users x days x 24 rows.
    """
    users = pd.Index(sorted(days["user_id"].unique()))
    n_users = len(users)
    u_days = users.get_indexer(days["user_id"])
    day_of = dict(zip(zip(u_days.tolist(), days["day_index"].tolist()), days["dow"].tolist()))
    # counts per (user, day, hour); the zeros are the spine's hours without a row
    n_days = np.bincount(u_days, minlength=n_users)
    grid_dow = np.zeros((n_users, 7))
    np.add.at(grid_dow, (u_days, days["dow"].to_numpy()), 1.0)  # days per user and weekday
    hours = hours[hours["user_id"].isin(users)]
    u_h = users.get_indexer(hours["user_id"])
    h_dow = np.array([day_of.get(k, -1) for k in zip(u_h.tolist(), hours["day_index"].tolist())], dtype=np.int64)
    inside = h_dow >= 0
    u_h, h_dow = u_h[inside], h_dow[inside]
    hod = hours["hour_of_day"].to_numpy(dtype=np.int64)[inside]
    y = hours["events_count"].to_numpy(dtype=np.float64)[inside]
    totals = np.bincount(u_h, weights=y, minlength=n_users)
    with np.errstate(divide="ignore"):
        offset = np.log(totals / np.maximum(n_days * HOURS, 1))
    fitted_users = np.isfinite(offset)
    # non-zero cells: (user, dow, hour, y) with their multiplicity; zero cells: the rest of each (user, dow, hour)
    key = pd.DataFrame({"u": u_h, "d": h_dow, "h": hod, "y": y})
    nonzero = key.groupby(["u", "d", "h", "y"]).size().rename("w").reset_index()
    active = key.groupby(["u", "d", "h"]).size()
    zero_u, zero_d, zero_h = np.meshgrid(np.arange(n_users), np.arange(7), np.arange(HOURS), indexing="ij")
    zero = pd.DataFrame({"u": zero_u.ravel(), "d": zero_d.ravel(), "h": zero_h.ravel()})
    zero["w"] = grid_dow[zero["u"], zero["d"]]
    zero = zero.join(active.rename("a"), on=["u", "d", "h"])
    zero["w"] = zero["w"] - zero["a"].fillna(0)
    zero["y"] = 0.0
    cells = pd.concat([nonzero, zero[zero["w"] > 0][["u", "d", "h", "y", "w"]]], ignore_index=True)
    cells = cells[fitted_users[cells["u"].to_numpy()]]
    h = cells["h"].to_numpy()
    group = cells["d"].to_numpy() * HOURS + h  # the design row of a cell: its (weekday, hour)
    yy = cells["y"].to_numpy(dtype=np.float64)
    w = cells["w"].to_numpy(dtype=np.float64)
    off = offset[cells["u"].to_numpy()]
    fit = fit_grouped_count_glm(yy, off, w, group, hour_dow_design(), t_crit=t_crit)
    test, mu = fit.overdispersion, fit.mu
    params = fit.params
    hour_params = np.r_[0.0, params[1:24]] + params[0]
    dow_params = np.r_[0.0, params[24:]]
    # each user's own hour profile: observed / expected per hour over the baseline, shrunk by prior_events
    observed = np.zeros((n_users, HOURS))
    expected = np.zeros((n_users, HOURS))
    np.add.at(observed, (cells["u"].to_numpy(), h), yy * w)
    np.add.at(expected, (cells["u"].to_numpy(), h), mu * w)
    factor = (observed + prior_events) / (expected + prior_events)
    return HourProfile(
        users=users,
        hour_params=hour_params,
        dow_params=dow_params,
        user_offset=np.where(fitted_users, offset, -np.inf),
        user_hour_factor=factor,
        overdispersion=test,
        n_obs=int(w.sum()),
        converged=fit.converged,
    )


def hour_dow_design() -> np.ndarray:
    """The 168 design rows of the user-hour GLM, row d * 24 + h: intercept, hours 1..23, weekdays Tue..Sun."""
    x = np.zeros((7 * HOURS, 1 + 23 + 6))
    x[:, 0] = 1.0
    d, h = np.divmod(np.arange(7 * HOURS), HOURS)
    x[np.flatnonzero(h > 0), h[h > 0]] = 1.0
    x[np.flatnonzero(d > 0), 23 + d[d > 0]] = 1.0
    return x


@dataclass(frozen=True)
class GroupedCountFit:
    params: np.ndarray
    mu: np.ndarray  # fitted mean of each cell
    overdispersion: Overdispersion
    converged: bool


def fit_grouped_count_glm(
    y: np.ndarray, offset: np.ndarray, weights: np.ndarray, group: np.ndarray, design: np.ndarray,
    *, t_crit: float = 2.33, max_iter: int = 200, tol: float = 1e-10,
) -> GroupedCountFit:
    """The Poisson GLM ``log E[y] = offset + design[group] @ b`` (frequency weights), then NB2 with the
    Cameron-Trivedi alpha when overdispersed: the maximum likelihood of a GLM over every cell, computed on the
    design's few distinct rows.

    Every cell of a group shares its design row, so the likelihood's score and information are sums over the
    groups: the Poisson fit is exactly the GLM of the groups' totals with their summed exp(offset) as exposure
    (statsmodels), and each IRLS step of the NB2 fit is the weighted least squares of the groups' weighted mean
    working responses (statsmodels WLS). The n x k design of the cells is never built: at 2,000 users it held
    millions of rows and the fit peaked at 4.4 GiB (benchmarks, size M)."""
    k = len(design)
    total_y = np.bincount(group, weights=weights * y, minlength=k)
    exposure = np.bincount(group, weights=weights * np.exp(offset), minlength=k)
    rows = exposure > 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        poisson = sm.GLM(total_y[rows], design[rows], family=sm.families.Poisson(), exposure=exposure[rows]).fit()
    params = np.asarray(poisson.params)
    mu = np.exp(offset + (design @ params)[group])
    test = overdispersion(y, mu, weights, t_crit=t_crit)
    if not test.is_overdispersed:
        return GroupedCountFit(params, mu, test, bool(poisson.converged))
    # Fisher scoring (IRLS). NB2's log link is not canonical, so it converges linearly; it stops when the score is
    # nil against the total count (an hour without a single event has no finite effect: its parameter drifts on,
    # its score is already nil)
    alpha, converged = test.alpha, False
    scale = float(np.sum(weights * y)) or 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(max_iter):
            irls_w = weights * mu / (1.0 + alpha * mu)
            score = design.T @ np.bincount(group, weights=irls_w * (y - mu) / mu, minlength=k)
            if float(np.max(np.abs(score))) <= tol * scale:
                converged = True
                break
            z = np.log(mu) - offset + (y - mu) / mu  # working response; log(mu) - offset is one value per group
            sum_w = np.bincount(group, weights=irls_w, minlength=k)
            keep = sum_w > 0
            mean_z = np.bincount(group, weights=irls_w * z, minlength=k)[keep] / sum_w[keep]
            params = np.asarray(sm.WLS(mean_z, design[keep], weights=sum_w[keep]).fit().params)
            mu = np.exp(offset + (design @ params)[group])
    return GroupedCountFit(params, mu, test, converged)


# -------------------------------------------------------------------------------- robust and STL baselines


def reference_rows(baseline: pd.DataFrame, weekday: int, min_same_kind_days: int) -> pd.DataFrame:
    """Each user's baseline days of the same kind as ``weekday`` (weekday / weekend), or all their days when
    they have fewer than ``min_same_kind_days`` of that kind."""
    same = baseline["dow"].isin(WEEKEND) == (weekday in WEEKEND)
    same_count = same.groupby(baseline["user_id"]).transform("sum")
    return baseline[same | (same_count < min_same_kind_days)]


def robust_log_baseline(reference: pd.DataFrame, column: str, floor: float) -> pd.DataFrame:
    """Per user: median and robust sd (1.4826 x MAD, floored) of log1p(column)."""
    logs = np.log1p(reference[column].clip(lower=0.0))
    median = logs.groupby(reference["user_id"]).median()
    mad = (logs - reference["user_id"].map(median)).abs().groupby(reference["user_id"]).median()
    return pd.DataFrame({"median": median, "sd": np.maximum(MAD_TO_SD * mad, floor)})


def count_baseline(reference: pd.DataFrame, column: str, winsor_quantile: float, min_rate: float) -> pd.DataFrame:
    """Per user: a robust rate (mean after capping each day at the user's upper quantile, so one past
    incident does not inflate it) and its dispersion (variance / mean, at least 1)."""
    groups = reference[column].groupby(reference["user_id"])
    cap = reference["user_id"].map(groups.quantile(winsor_quantile))
    capped = np.minimum(reference[column], cap).groupby(reference["user_id"])
    rate = capped.mean()
    dispersion = (capped.var(ddof=1) / rate.where(rate > 0)).fillna(1.0).clip(lower=1.0)
    return pd.DataFrame({"rate": np.maximum(rate, min_rate), "dispersion": dispersion})


@dataclass(frozen=True)
class StlForecast:
    """The STL baseline of one series for the day after it: level, robust residual sd, seasonal strength."""

    level: float
    sd: float
    seasonal_strength: float


def seasonal_strength(seasonal: np.ndarray, resid: np.ndarray) -> float:
    """max(0, 1 - Var(R) / Var(S + R)) (Wang, Smith and Hyndman): near 1 for a strongly seasonal series."""
    total = float(np.var(seasonal + resid))
    return max(0.0, 1.0 - float(np.var(resid)) / total) if total > 0 else 0.0


def stl_forecast(series: np.ndarray, period: int, sd_floor: float) -> StlForecast:
    """STL(robust) of ``series`` (one value per day, oldest first); the next day's level is the last trend
    value plus the seasonal value one period before it; the sd is 1.4826 x MAD of the residuals, floored."""
    fit = STL(series, period=period, robust=True).fit()
    seasonal, resid = np.asarray(fit.seasonal), np.asarray(fit.resid)
    level = float(np.asarray(fit.trend)[-1] + seasonal[len(series) - period])
    sd = max(MAD_TO_SD * float(np.median(np.abs(resid - np.median(resid)))), sd_floor)
    return StlForecast(level, sd, seasonal_strength(seasonal, resid))
