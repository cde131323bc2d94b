"""Market: the probability that the index is in its high-variance regime, by a Markov-switching model.

``MarkovRegression(k_regimes=2, trend="c", switching_variance=True)`` on the index's daily log returns (in
percent) up to ``as_of``. The model is refitted on a schedule (every ``refit_every_trading_days`` new returns,
and whenever no usable fit is in force); between refits the parameters of the last fit are applied to the
updated window. The value is the *filtered* probability of the high-variance regime on the last trading day
<= ``as_of`` (it uses returns up to that day only); the *smoothed* probability (which uses the whole window,
later days included) is stored beside it in ``warning.market_regime_days`` for analysis and never alerts.
A fit is tried from a few starting points and the best converged likelihood wins, so one bad optimisation
does not stop the daily run.
"""

from __future__ import annotations

import datetime as dt
import logging
import warnings
from dataclasses import dataclass

import numpy as np
import psycopg2.extensions
from scipy.stats import norm
from statsmodels.tsa.regime_switching.markov_regression import MarkovRegression

from warning_models.errors import InsufficientHistoryError
from warning_models.market.public_data import RegimePeriod, regime_periods
from warning_models.market.volatility import ewma_variance
from warning_models.indicators.base import (
    Alert,
    Domain,
    EntityType,
    IndicatorResult,
    IndicatorValue,
    ModelRun,
    Severity,
    TableRows,
    config_from_env,
    previous_run_params,
    data_hash,
    read_frame,
    severity_for,
)

log = logging.getLogger(__name__)

INDICATOR = "market_stress_regime"
DOMAIN = Domain.MARKET
ENTITY_ID = "MARKET"


@dataclass(frozen=True)
class MarketRegimeConfig:
    """Settings of the market regime indicator; each can be set with ``EWS_MARKET_<FIELD>``."""

    min_returns: int = 60  # fewer returns up to as_of: InsufficientHistoryError
    max_returns: int = 750  # trailing window fitted (about three years of trading days)
    return_scale: float = 100.0  # log returns are fitted in percent
    ewma_lambda: float = 0.94  # RiskMetrics daily decay
    ewma_seed_returns: int = 30  # the EWMA variance starts at the mean square of the first returns
    trading_days_per_year: int = 252
    max_iter: int = 200
    refit_every_trading_days: int = 21  # about monthly; between refits the last fit's parameters are applied
    search_reps: int = 20  # random start-parameter search, used when the direct fits fail
    search_seed: int = 20240601  # fixed: the same data gives the same fit
    calm_stay_prob: float = 0.97  # data-driven starting point: P(stay calm), P(stay stressed)
    stress_stay_prob: float = 0.9
    min_variance_ratio: float = 2.0  # regimes whose variances differ less are not "calm" vs "stress": no alert
    min_vol_multiple: float = 2.0  # and the day's EWMA volatility must be at least this multiple of the calm one
    lookback_days: int = 5  # the explanation compares with the probability this many trading days earlier
    alert_medium_prob: float = 0.8
    alert_high_prob: float = 0.95

    @classmethod
    def from_env(cls) -> "MarketRegimeConfig":
        return config_from_env(cls, "MARKET")


_RETURNS_SQL = """
    select price_date, index_log_return
    from marts.fct_market_index_days
    where price_date <= %s and index_log_return is not null
    order by price_date desc
    limit %s
"""


@dataclass(frozen=True)
class RegimeFit:
    """The chosen Markov-switching fit, read out in terms of its calm and high-variance regimes."""

    params: dict[str, float]
    high: int  # index of the high-variance regime
    filtered_high: np.ndarray  # filtered probability of the high regime, per return (knowable that day)
    smoothed_high: np.ndarray  # smoothed probability (uses the whole window: hindsight)
    llf: float
    aic: float
    converged: bool
    start: str  # which starting point won
    attempts: dict[str, str]  # starting point -> outcome

    @property
    def sigma2(self) -> tuple[float, float]:
        """(calm, high) regime variances of the percent returns."""
        low = 1 - self.high
        return self.params[f"sigma2[{low}]"], self.params[f"sigma2[{self.high}]"]


def _data_start(y: np.ndarray, config: MarketRegimeConfig) -> np.ndarray:
    """Start parameters from the data: calm = the quieter half of days, stress = the loudest fifth."""
    mean = float(np.mean(y))
    dev2 = (y - mean) ** 2
    calm = float(np.mean(dev2[dev2 <= np.quantile(dev2, 0.5)])) * 2.0
    stress = max(float(np.mean(dev2[dev2 >= np.quantile(dev2, 0.8)])), 4 * calm)
    # order: p[0->0], p[1->0], const[0], const[1], sigma2[0], sigma2[1]
    return np.array([config.calm_stay_prob, 1 - config.stress_stay_prob, mean, mean, calm, stress])


def fit_regimes(y: np.ndarray, config: MarketRegimeConfig) -> RegimeFit:
    """Fit the two-regime model from several starting points; keep the best converged likelihood."""
    model = MarkovRegression(y, k_regimes=2, trend="c", switching_variance=True)
    names = list(model.param_names)
    attempts: dict[str, str] = {}
    candidates = []

    def attempt(label: str, **kwargs: object) -> None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                result = model.fit(disp=False, maxiter=config.max_iter, **kwargs)
        except (np.linalg.LinAlgError, ValueError, FloatingPointError, OverflowError) as exc:
            attempts[label] = f"failed: {type(exc).__name__}"
            return
        params = np.asarray(result.params)
        converged = bool(result.mle_retvals.get("converged", False))
        if not (np.isfinite(result.llf) and np.all(np.isfinite(params))):
            attempts[label] = "failed: non-finite"
            return
        attempts[label] = f"llf={result.llf:.3f} converged={converged}"
        candidates.append((converged, float(result.llf), label, result))

    attempt("default")
    attempt("data_driven", start_params=_data_start(y, config))
    if not any(c[0] for c in candidates):
        attempt("search", search_reps=config.search_reps, rng=np.random.default_rng(config.search_seed))
    if not any(c[0] for c in candidates):
        attempt("nelder_mead", start_params=_data_start(y, config), method="nm", maxiter=config.max_iter * 20)
    if not candidates:
        raise RuntimeError(f"{INDICATOR}: MarkovRegression could not be fitted from any start ({attempts})")
    converged, llf, label, result = max(candidates, key=lambda c: (c[0], c[1]))
    return _read_out(result, names, converged, label, attempts)


def apply_regimes(y: np.ndarray, params: dict[str, float]) -> RegimeFit:
    """The probabilities of ``y`` under fixed, earlier-fitted parameters (no optimisation)."""
    model = MarkovRegression(y, k_regimes=2, trend="c", switching_variance=True)
    names = list(model.param_names)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = model.smooth(np.array([params[n] for n in names]))
    return _read_out(result, names, True, "reused", {})


def _read_out(result: object, names: list[str], converged: bool, label: str, attempts: dict[str, str]) -> RegimeFit:
    params = dict(zip(names, np.asarray(result.params).tolist()))  # type: ignore[attr-defined]
    high = int(params["sigma2[1]"] > params["sigma2[0]"])

    def high_column(probabilities: object) -> np.ndarray:
        p = np.asarray(probabilities)
        return p[:, high] if p.shape[1] == 2 else p[high]

    return RegimeFit(
        params,
        high,
        high_column(result.filtered_marginal_probabilities),  # type: ignore[attr-defined]
        high_column(result.smoothed_marginal_probabilities),  # type: ignore[attr-defined]
        float(result.llf),  # type: ignore[attr-defined]
        float(result.aic),  # type: ignore[attr-defined]
        converged,
        label,
        attempts,
    )


@dataclass(frozen=True)
class PriorFit:
    """The parameters in force before ``as_of``: from the latest run, and the last return of their fit."""

    params: dict[str, float]
    fitted_through: dt.date
    fitted_on: dt.date


def _prior_fit(conn: psycopg2.extensions.connection, as_of: dt.date) -> PriorFit | None:
    stored = previous_run_params(conn, INDICATOR, as_of)
    if stored is None or "regime_params" not in stored:
        return None
    return PriorFit(
        {k: float(v) for k, v in stored["regime_params"].items()},
        dt.date.fromisoformat(stored["fitted_through"]),
        dt.date.fromisoformat(stored["fitted_on"]),
    )


def refit_reason(prior: PriorFit | None, dates: list[dt.date], config: MarketRegimeConfig) -> str | None:
    """Why today needs a fresh fit, or None when the fit in force can be applied."""
    if prior is None:
        return "no earlier fit"
    new_returns = sum(d > prior.fitted_through for d in dates)
    if new_returns >= config.refit_every_trading_days:
        return f"{new_returns} returns since the fit through {prior.fitted_through} (refit every {config.refit_every_trading_days})"
    if prior.fitted_through > dates[-1]:
        return f"the fit in force ran through {prior.fitted_through}, after today's data"
    return None


def compute(
    conn: psycopg2.extensions.connection, as_of: dt.date, config: MarketRegimeConfig | None = None
) -> IndicatorResult:
    """Filtered probability of the high-variance regime on the last trading day <= ``as_of``."""
    config = config or MarketRegimeConfig.from_env()
    frame = read_frame(conn, _RETURNS_SQL, (as_of, config.max_returns)).iloc[::-1].reset_index(drop=True)
    if len(frame) < config.min_returns:
        raise InsufficientHistoryError(INDICATOR, config.min_returns, len(frame))
    frame["index_log_return"] = frame["index_log_return"].astype(float)
    y = frame["index_log_return"].to_numpy() * config.return_scale
    dates: list[dt.date] = list(frame["price_date"])
    prior = _prior_fit(conn, as_of)
    reason = refit_reason(prior, dates, config)
    if reason is None and prior is not None:
        fit, fitted_through, fitted_on = apply_regimes(y, prior.params), prior.fitted_through, prior.fitted_on
    else:
        fit, fitted_through, fitted_on = fit_regimes(y, config), dates[-1], as_of

    prob = float(fit.filtered_high[-1])
    calm_var, high_var = fit.sigma2
    variance_ratio = high_var / calm_var if calm_var > 0 else float("inf")
    # two regimes only mean "calm vs stress" when they beat one Gaussian on BIC and their variances differ
    n, k_switching, k_single = len(y), len(fit.params), 2
    bic_switching = -2 * fit.llf + k_switching * np.log(n)
    bic_single = -2 * float(np.sum(norm.logpdf(y, loc=y.mean(), scale=y.std()))) + k_single * np.log(n)
    regimes_distinct = bool(bic_switching < bic_single and variance_ratio >= config.min_variance_ratio)
    s2 = ewma_variance(y, config.ewma_lambda, config.ewma_seed_returns)
    annualise = np.sqrt(config.trading_days_per_year)
    ewma_vol = float(np.sqrt(s2[-1]) * annualise)
    calm_vol = float(np.sqrt(calm_var) * annualise)
    high_vol = float(np.sqrt(high_var) * annualise)
    last_date: dt.date = frame["price_date"].iloc[-1]

    # a probability near 1 of a regime only a little louder than calm is not stress: today's volatility must be
    # a clear multiple of the calm regime's (a slow drift of a calm market's volatility stays under it)
    vol_multiple = ewma_vol / calm_vol if calm_vol > 0 else float("inf")
    alerts: list[Alert] = []
    severity = severity_for(prob, config.alert_medium_prob, config.alert_high_prob)
    if severity is not None and regimes_distinct and vol_multiple >= config.min_vol_multiple:
        threshold = config.alert_high_prob if severity is Severity.HIGH else config.alert_medium_prob
        back = min(config.lookback_days, len(y) - 1)
        recent = y[-back:]
        alerts.append(
            Alert(
                EntityType.MARKET,
                ENTITY_ID,
                prob,
                threshold,
                severity,
                f"Filtered probability of the high-variance regime {prob:.2f} on {last_date.isoformat()} crossed "
                f"{threshold:.2f} (it was {float(fit.filtered_high[-1 - back]):.2f} {back} trading days earlier): "
                f"EWMA volatility {ewma_vol:.1f} % annualised, {vol_multiple:.1f}x the calm regime's {calm_vol:.1f} % "
                f"({high_vol:.1f} % in the high-variance one); the last {back} daily returns ranged "
                f"{recent.min():+.2f} % to {recent.max():+.2f} %.",
            )
        )

    run = ModelRun(
        indicator=INDICATOR,
        domain=DOMAIN,
        as_of_date=as_of,
        model_class="statsmodels.tsa.regime_switching.markov_regression.MarkovRegression",
        training_start=frame["price_date"].iloc[0],
        training_end=last_date,
        n_obs=len(y),
        params={
            "regime_params": fit.params,
            "fitted_through": fitted_through.isoformat(),
            "fitted_on": fitted_on.isoformat(),
            "high_variance_regime": fit.high,
            "k_regimes": 2,
            "trend": "c",
            "switching_variance": True,
            "return_scale": config.return_scale,
        },
        fit_stats={
            "refitted": reason is not None,
            "refit_reason": reason,
            "llf": fit.llf,
            "aic": fit.aic,
            "converged": fit.converged,
            "start": fit.start,
            "attempts": fit.attempts,
            "filtered_high_prob": prob,
            "variance_ratio": variance_ratio,
            "regimes_distinct": regimes_distinct,
            "bic": float(bic_switching),
            "bic_single_regime": float(bic_single),
            "calm_vol_annualised_pct": calm_vol,
            "high_vol_annualised_pct": high_vol,
            "ewma_lambda": config.ewma_lambda,
            "ewma_vol_annualised_pct": ewma_vol,
            "ewma_vol_multiple_of_calm": vol_multiple,
            "latest_return_date": last_date.isoformat(),
            "high_regime_share": float(np.mean(fit.filtered_high > 0.5)),
        },
        data_hash=data_hash(frame),
    )
    value = IndicatorValue(EntityType.MARKET, ENTITY_ID, prob, config.alert_medium_prob)
    days = TableRows(
        "warning.market_regime_days",
        ("price_date", "index_log_return_pct", "filtered_high_prob", "smoothed_high_prob"),
        [
            (d, float(r), float(f), float(sm))
            for d, r, f, sm in zip(dates, y, fit.filtered_high, fit.smoothed_high, strict=True)
        ],
    )
    return IndicatorResult(run, [value], alerts, [days])


_HISTORY_SQL = """
    select price_date, index_log_return
    from marts.fct_market_index_days
    where price_date <= %s and index_log_return is not null
    order by price_date
"""


@dataclass(frozen=True)
class HistoryRegimes:
    """The model fitted once on the index's whole history: its high-variance periods, filtered and smoothed."""

    first: dt.date
    last: dt.date
    fit: RegimeFit
    filtered_periods: list[RegimePeriod]
    smoothed_periods: list[RegimePeriod]

    def __str__(self) -> str:
        calm, high = self.fit.sigma2
        lines = [
            f"Markov-switching variance on {self.first} .. {self.last} ({len(self.fit.filtered_high)} daily returns): "
            f"calm {np.sqrt(calm * 252):.1f} % a year, high-variance {np.sqrt(high * 252):.1f} % a year",
            "high-variance periods, filtered probability > 0.5 (knowable each day):",
            *(f"  {p}" for p in self.filtered_periods),
            "high-variance periods, smoothed probability > 0.5 (hindsight):",
            *(f"  {p}" for p in self.smoothed_periods),
        ]
        return "\n".join(lines)


def history_regimes(
    conn: psycopg2.extensions.connection, as_of: dt.date, config: MarketRegimeConfig, min_days: int = 10
) -> HistoryRegimes:
    """Fit the regime model on every index return up to ``as_of`` and list its high-variance periods."""
    frame = read_frame(conn, _HISTORY_SQL, (as_of,))
    if len(frame) < config.min_returns:
        raise InsufficientHistoryError(INDICATOR, config.min_returns, len(frame))
    y = frame["index_log_return"].astype(float).to_numpy() * config.return_scale
    dates: list[dt.date] = list(frame["price_date"])
    fit = fit_regimes(y, config)
    return HistoryRegimes(
        dates[0], dates[-1], fit,
        regime_periods(dates, fit.filtered_high, y, min_days=min_days),
        regime_periods(dates, fit.smoothed_high, y, min_days=min_days),
    )
