"""Credit portfolio early warning: NPL ratio forecasts 1-3 months ahead and roll-rate spikes by segment.

Two forecasts of the non-performing (90+ days past due) balance ratio per segment:

- **Markov roll-rate model** (the regulators' short-term forecast): the monthly balance transition matrix
  between delinquency buckets (``marts.fct_credit_roll_rates``, averaged over the last ``roll_months`` complete
  months) applied to today's balance by bucket (``marts.fct_npl_ratio_days``). Balance that leaves the book
  (``closed``) is replaced by new current lending, so the book keeps its size. The interval is the range of the
  forecasts made with each of those months' matrices alone.
- **ARIMA(1,1,0) with drift** (statsmodels) on the weekly NPL ratio, with a 95 % prediction interval.

A forecast crossing the risk appetite (``npl_appetite_pct``) raises a portfolio-level alert that names both
forecasts and the roll rates that moved most. On the first business date of a month, each worsening roll rate
of the month just closed (current -> 1-29 -> 30-59 -> 60-89 -> 90+) is compared with the months before it; a
spike raises a segment-level alert.
"""

from __future__ import annotations

import calendar
import datetime as dt
import logging
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import psycopg2.extensions

from warning_models.credit.staging import BUCKETS
from warning_models.errors import InsufficientHistoryError
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
    data_hash,
    read_frame,
)

log = logging.getLogger(__name__)

INDICATOR = "credit_npl_forecast"
DOMAIN = Domain.CREDIT
KIND_ROLL_SPIKE = "credit_roll_rate_spike"
STATES = (*BUCKETS, "closed")
BALANCE_COLUMNS = {
    "current": "current_balance_amount",
    "1-29": "dpd_1_29_balance_amount",
    "30-59": "dpd_30_59_balance_amount",
    "60-89": "dpd_60_89_balance_amount",
    "90+": "dpd_90_plus_balance_amount",
}
FORECAST_COLUMNS = (
    "model_run_id", "as_of_date", "method", "segment", "horizon_months", "target_date", "npl_ratio_pct",
    "lower_pct", "upper_pct", "threshold_pct",
)


@dataclass(frozen=True)
class CreditPortfolioConfig:
    """Settings of the portfolio forecasts; each can be set with ``EWS_PORTFOLIO_<FIELD>``."""

    npl_appetite_pct: float = 5.0  # risk appetite: the NPL ratio the board does not want to cross
    horizon_months: int = 3
    roll_months: int = 3  # complete months averaged in the Markov matrix
    min_roll_months: int = 1
    arima_min_weeks: int = 12  # fewer weekly points: no ARIMA forecast
    spike_sigmas: float = 3.0
    spike_min_ratio: float = 1.5  # and at least this times the earlier months' mean
    spike_min_loans: int = 10  # from-bucket loans needed for a roll rate to count
    spike_baseline_months: int = 3

    @classmethod
    def from_env(cls) -> "CreditPortfolioConfig":
        return config_from_env(cls, "PORTFOLIO")


_DAYS_SQL = """
    select performance_date, segment, balance_amount, npl_ratio_pct, current_balance_amount,
           dpd_1_29_balance_amount, dpd_30_59_balance_amount, dpd_60_89_balance_amount, dpd_90_plus_balance_amount
    from marts.fct_npl_ratio_days where performance_date <= %s order by performance_date
"""
_ROLLS_SQL = """
    select roll_month_start_date, segment, from_bucket, to_bucket, loans_count, from_balance_amount,
           roll_rate_pct, balance_roll_rate_pct
    from marts.fct_credit_roll_rates where roll_month_start_date < %s
"""


def _month_start(d: dt.date) -> dt.date:
    return d.replace(day=1)


def _add_months(d: dt.date, months: int) -> dt.date:
    """The same day ``months`` later, or that month's last day when it is shorter (31 Jan + 1 = 28/29 Feb)."""
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    return dt.date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def transition_matrix(rolls: pd.DataFrame) -> np.ndarray:
    """Row-stochastic balance transition matrix over STATES from one or more months of roll rows (balances
    pooled); a bucket with no balance stays where it is; ``closed`` is absorbing."""
    n = len(STATES)
    flows = np.zeros((n, n))
    for row in rolls.itertuples(index=False):
        if row.from_bucket in STATES and row.to_bucket in STATES:
            flows[STATES.index(row.from_bucket), STATES.index(row.to_bucket)] += float(row.from_balance_amount or 0)
    matrix = np.eye(n)
    for i in range(n - 1):
        total = flows[i].sum()
        if total > 0:
            matrix[i] = flows[i] / total
    return matrix


def markov_forecast(balances: np.ndarray, matrix: np.ndarray, months: int) -> list[float]:
    """NPL ratio (%) after each of ``months`` steps; closed balance is relent as current (a book of constant size)."""
    state = np.r_[np.asarray(balances, dtype=np.float64), 0.0]
    out = []
    for _ in range(months):
        state = state @ matrix
        state[0] += state[-1]
        state[-1] = 0.0
        book = state[:-1].sum()
        out.append(100.0 * state[BUCKETS.index("90+")] / book if book > 0 else 0.0)
    return out


def arima_forecast(weekly: pd.Series, steps: list[int]) -> tuple[list[float], list[float], list[float], dict[str, Any]]:
    """ARIMA(1,1,0) with drift on the weekly NPL ratio; point, 95 % lower and upper at each step."""
    from statsmodels.tsa.arima.model import ARIMA

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = ARIMA(weekly.to_numpy(dtype=np.float64), order=(1, 1, 0), trend="t").fit()
        forecast = result.get_forecast(max(steps))
    mean = np.asarray(forecast.predicted_mean)
    interval = np.asarray(forecast.conf_int(alpha=0.05))
    idx = [s - 1 for s in steps]
    stats = {"aic": float(result.aic), "llf": float(result.llf), "params": [float(p) for p in result.params]}
    return mean[idx].tolist(), interval[idx, 0].tolist(), interval[idx, 1].tolist(), stats


def _worsening_pairs() -> list[tuple[str, str]]:
    return list(zip(BUCKETS[:-1], BUCKETS[1:]))


def _roll_spikes(
    rolls: pd.DataFrame, month: dt.date, config: CreditPortfolioConfig
) -> list[tuple[str, str, str, float, float, float]]:
    """(segment, from, to, rate, baseline mean, threshold) of each worsening roll rate of ``month`` that spiked."""
    spikes = []
    months = sorted(rolls["roll_month_start_date"].unique())
    if month not in months:
        return spikes
    earlier = [m for m in months if m < month][-config.spike_baseline_months :]
    if not earlier:
        return spikes
    for segment in sorted(rolls["segment"].unique()):
        seg = rolls[rolls["segment"] == segment]
        for source, target in _worsening_pairs():
            def rate(m: dt.date) -> float | None:
                rows = seg[(seg["roll_month_start_date"] == m) & (seg["from_bucket"] == source)]
                if rows["loans_count"].sum() < config.spike_min_loans:
                    return None
                return float(rows.loc[rows["to_bucket"] == target, "roll_rate_pct"].sum())

            now = rate(month)
            history = [r for r in (rate(m) for m in earlier) if r is not None]
            if now is None or not history:
                continue
            mean = float(np.mean(history))
            sd = max(float(np.std(history)), 0.25 * mean, 0.5)
            threshold = max(mean + config.spike_sigmas * sd, config.spike_min_ratio * mean)
            if now > threshold:
                spikes.append((segment, source, target, now, mean, threshold))
    return spikes


def compute(
    conn: psycopg2.extensions.connection, as_of: dt.date, config: CreditPortfolioConfig | None = None
) -> IndicatorResult:
    config = config or CreditPortfolioConfig.from_env()
    run_id = f"{INDICATOR}:{as_of.isoformat()}"
    days = read_frame(conn, _DAYS_SQL, (as_of,))
    rolls = read_frame(conn, _ROLLS_SQL, (_month_start(as_of),))
    today = days[days["performance_date"] == as_of]
    months = sorted(rolls["roll_month_start_date"].unique()) if not rolls.empty else []
    if today.empty or len(months) < config.min_roll_months:
        raise InsufficientHistoryError(INDICATOR, config.min_roll_months, len(months))
    used = months[-config.roll_months :]
    horizons = list(range(1, config.horizon_months + 1))
    steps = [max(1, round(30.4375 * h / 7)) for h in horizons]
    forecast_rows: list[tuple[Any, ...]] = []
    values: list[IndicatorValue] = []
    alerts: list[Alert] = []
    fit_stats: dict[str, Any] = {"roll_months": [m.isoformat() for m in used]}

    for row in today.sort_values("segment").itertuples(index=False):
        segment = row.segment
        balances = np.array([float(getattr(row, BALANCE_COLUMNS[b])) for b in BUCKETS])
        seg_rolls = rolls[(rolls["segment"] == segment) & rolls["roll_month_start_date"].isin(used)]
        pooled = markov_forecast(balances, transition_matrix(seg_rolls), config.horizon_months)
        singles = [
            markov_forecast(balances, transition_matrix(seg_rolls[seg_rolls["roll_month_start_date"] == m]),
                            config.horizon_months)
            for m in used
        ]
        lows, highs = np.min(singles, axis=0), np.max(singles, axis=0)
        for h, point, lo, hi in zip(horizons, pooled, lows, highs):
            forecast_rows.append((run_id, as_of, "markov_roll_rate", segment, h, _add_months(as_of, h), point,
                                  float(min(lo, point)), float(max(hi, point)), config.npl_appetite_pct))
        series = days[days["segment"] == segment].set_index("performance_date")["npl_ratio_pct"].astype(float)
        weekly = series[::-1].iloc[::7][::-1].fillna(0.0)  # every 7th day back from as_of
        arima: tuple[list[float], list[float], list[float]] | None = None
        if len(weekly) >= config.arima_min_weeks:
            try:
                mean, lower, upper, stats = arima_forecast(weekly, steps)
                arima = (mean, lower, upper)
                fit_stats[f"arima:{segment}"] = stats
                for h, m, lo, hi in zip(horizons, mean, lower, upper):
                    forecast_rows.append((run_id, as_of, "arima", segment, h, _add_months(as_of, h), m, lo, hi,
                                          config.npl_appetite_pct))
            except (np.linalg.LinAlgError, ValueError) as exc:
                fit_stats[f"arima:{segment}"] = {"error": str(exc)[:200]}
        worst = max(pooled + (arima[0] if arima else []))
        entity = EntityType.PORTFOLIO if segment == "all" else EntityType.SEGMENT
        values.append(IndicatorValue(entity, segment, worst, config.npl_appetite_pct))
        if worst >= config.npl_appetite_pct:
            both = max(pooled) >= config.npl_appetite_pct and arima is not None and max(arima[0]) >= config.npl_appetite_pct
            first = next((h for h, v in zip(horizons, pooled) if v >= config.npl_appetite_pct), None)
            arima_words = (
                "ARIMA " + ", ".join(f"{m:.2f}% [{lo:.2f}, {hi:.2f}]" for m, lo, hi in zip(*arima))
                if arima else "ARIMA: too short a history"
            )
            alerts.append(Alert(
                entity, segment, worst, config.npl_appetite_pct, Severity.HIGH if both else Severity.MEDIUM,
                f"NPL ratio of {segment} loans {float(row.npl_ratio_pct or 0):.2f}% on {as_of}; forecast for "
                f"months {', '.join(map(str, horizons))}: Markov roll rates "
                + ", ".join(f"{v:.2f}%" for v in pooled) + f"; {arima_words}. "
                + (f"The roll-rate forecast crosses the {config.npl_appetite_pct:g}% risk appetite in month {first}. "
                   if first else f"Crosses the {config.npl_appetite_pct:g}% risk appetite. ")
                + _roll_words(seg_rolls, used),
            ))

    closed_month = months[-1] if months else None
    first_of_month = days.loc[days["performance_date"] >= _month_start(as_of), "performance_date"].min()
    if closed_month is not None and first_of_month == as_of:
        for segment, source, target, rate, mean, threshold in _roll_spikes(rolls, closed_month, config):
            alerts.append(Alert(
                EntityType.SEGMENT, f"{segment}:{source}->{target}", rate, threshold,
                Severity.HIGH if rate > 2 * threshold else Severity.MEDIUM,
                f"Roll rate {source} -> {target} of {segment} loans in {closed_month:%Y-%m} was {rate:.1f}% "
                f"against {mean:.1f}% in the {min(len(months) - 1, config.spike_baseline_months)} months before "
                f"(spike threshold {threshold:.1f}%).",
                kind=KIND_ROLL_SPIKE,
            ))

    run = ModelRun(
        indicator=INDICATOR,
        domain=DOMAIN,
        as_of_date=as_of,
        model_class="Markov chain of monthly balance roll rates + statsmodels ARIMA(1,1,0) with drift",
        training_start=used[0],
        training_end=as_of,
        n_obs=int(rolls["roll_month_start_date"].isin(used).sum()),
        params={
            "npl_appetite_pct": config.npl_appetite_pct,
            "horizon_months": config.horizon_months,
            "roll_months": config.roll_months,
            "arima_order": [1, 1, 0],
            "arima_steps_weeks": steps,
        },
        fit_stats=fit_stats,
        data_hash=data_hash(rolls[rolls["roll_month_start_date"].isin(used)].reset_index(drop=True)),
    )
    return IndicatorResult(run, values, alerts, [TableRows("warning.npl_forecasts", FORECAST_COLUMNS, forecast_rows)])


def _roll_words(rolls: pd.DataFrame, used: list[dt.date]) -> str:
    """The worsening roll rates of the latest month against the average of the months used."""
    if rolls.empty:
        return ""
    latest = rolls[rolls["roll_month_start_date"] == used[-1]]
    parts = []
    for source, target in _worsening_pairs():
        now = latest.loc[(latest["from_bucket"] == source) & (latest["to_bucket"] == target), "balance_roll_rate_pct"]
        avg = rolls.loc[(rolls["from_bucket"] == source) & (rolls["to_bucket"] == target), "balance_roll_rate_pct"]
        if len(now):
            parts.append(f"{source}->{target} {float(now.sum()):.1f}% (avg {float(avg.astype(float).mean()):.1f}%)")
    return "Balance roll rates in " + f"{used[-1]:%Y-%m}: " + ", ".join(parts) + "." if parts else ""
