"""Macro: the Basel III credit-to-GDP gap, one-sided (real time), per economy.

For each quarter t known on ``as_of`` (``published_date <= as_of``), gap_t = ratio_t - trend_t, where trend_t
is the last point of the two-sided HP trend of ratio[:t + 1] with lambda 400,000 (``macro.hp_filter``, equal
to statsmodels' ``hpfilter``): the trend a supervisor could have computed with the data of that quarter, never
revised by later figures. Every known quarter's real-time gap is stored in ``warning.credit_gap_quarters``. The value is the latest known
quarter's gap; the explanation carries the Basel buffer guide (0 % at a gap <= 2 pp, linearly up to 2.5 % of
risk-weighted assets at >= 10 pp).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import psycopg2.extensions

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
    severity_for,
)
from warning_models.macro.hp_filter import one_sided_gap

__all__ = ["INDICATOR", "MacroCreditGapConfig", "buffer_guide_pct", "compute", "one_sided_gap"]

INDICATOR = "macro_credit_gap"
DOMAIN = Domain.MACRO


@dataclass(frozen=True)
class MacroCreditGapConfig:
    """Settings of the credit-to-GDP gap indicator; each can be set with ``EWS_MACRO_<FIELD>``."""

    hp_lambda: float = 400_000.0  # Basel: quarterly data, a credit cycle of about four times a business cycle
    min_quarters: int = 12  # fewer known quarters: the economy has no gap yet
    buffer_gap_low_pp: float = 2.0  # buffer guide 0 % at or below this gap
    buffer_gap_high_pp: float = 10.0  # buffer guide at its maximum at or above this gap
    buffer_max_pct: float = 2.5  # maximum countercyclical buffer guide, % of risk-weighted assets
    alert_medium_gap_pp: float = 2.0  # alert above this gap (strictly)
    alert_high_gap_pp: float = 10.0  # high at or above this gap
    change_lag_quarters: int = 4  # the explanation compares the gap with this many quarters before

    @classmethod
    def from_env(cls) -> "MacroCreditGapConfig":
        return config_from_env(cls, "MACRO")


_QUARTERS_SQL = """
    select economy_code, period_end_date, published_date, credit_to_gdp_pct
    from marts.fct_credit_to_gdp_quarters
    where published_date <= %s and credit_to_gdp_pct is not null
    order by economy_code, period_end_date
"""


def buffer_guide_pct(gap_pp: float, config: MacroCreditGapConfig) -> float:
    """Basel countercyclical buffer guide: 0 at gap <= low, linear to the maximum at gap >= high."""
    low, high = config.buffer_gap_low_pp, config.buffer_gap_high_pp
    share = min(max((gap_pp - low) / (high - low), 0.0), 1.0)
    return share * config.buffer_max_pct


def compute(
    conn: psycopg2.extensions.connection, as_of: dt.date, config: MacroCreditGapConfig | None = None
) -> IndicatorResult:
    """One-sided credit-to-GDP gap of each economy's latest quarter published by ``as_of``."""
    config = config or MacroCreditGapConfig.from_env()
    frame = read_frame(conn, _QUARTERS_SQL, (as_of,))
    frame["credit_to_gdp_pct"] = frame["credit_to_gdp_pct"].astype(float)
    counts = frame.groupby("economy_code").size() if len(frame) else None
    longest = int(counts.max()) if counts is not None else 0
    if longest < config.min_quarters:
        raise InsufficientHistoryError(INDICATOR, config.min_quarters, longest)

    values: list[IndicatorValue] = []
    alerts: list[Alert] = []
    latest_gaps: dict[str, float] = {}
    latest_quarters: dict[str, str] = {}
    skipped: dict[str, int] = {}
    gap_rows: list[tuple[object, ...]] = []
    for economy, quarters in frame.groupby("economy_code", sort=True):
        code = str(economy)
        if len(quarters) < config.min_quarters:
            skipped[code] = len(quarters)
            continue
        ratio = quarters["credit_to_gdp_pct"].to_numpy()
        gaps = one_sided_gap(ratio, config.hp_lambda, config.min_quarters)
        for q, p, r, g in zip(quarters["period_end_date"], quarters["published_date"], ratio, gaps, strict=True):
            finite = bool(np.isfinite(g))
            gap_rows.append((code, q, p, float(r), float(r - g) if finite else None, float(g) if finite else None,
                             buffer_guide_pct(float(g), config) if finite else None))
        gap = float(gaps[-1])
        quarter: dt.date = quarters["period_end_date"].iloc[-1]
        published: dt.date = quarters["published_date"].iloc[-1]
        latest_gaps[code], latest_quarters[code] = gap, quarter.isoformat()
        values.append(IndicatorValue(EntityType.ECONOMY, code, gap, config.alert_medium_gap_pp))
        severity = severity_for(gap, config.alert_medium_gap_pp, config.alert_high_gap_pp, strict_medium=True)
        if severity is None:
            continue
        threshold = config.alert_high_gap_pp if severity is Severity.HIGH else config.alert_medium_gap_pp
        lag = config.change_lag_quarters
        before = float(gaps[-1 - lag]) if len(gaps) > lag and np.isfinite(gaps[-1 - lag]) else None
        moved = f"{gap - before:+.1f} pp over {lag} quarters" if before is not None else "no earlier gap"
        alerts.append(
            Alert(
                EntityType.ECONOMY,
                code,
                gap,
                threshold,
                severity,
                f"Credit-to-GDP gap of {code} {gap:.1f} pp in the quarter ending {quarter.isoformat()} "
                f"(published {published.isoformat()}) crossed the {threshold:.1f} pp threshold ({moved}): the ratio "
                f"{ratio[-1]:.1f} % stands against a one-sided HP trend (lambda {config.hp_lambda:,.0f}) of "
                f"{ratio[-1] - gap:.1f} %; Basel buffer guide {buffer_guide_pct(gap, config):.2f} % of "
                f"risk-weighted assets.",
            )
        )

    used = frame[frame["economy_code"].isin(list(latest_gaps))]
    run = ModelRun(
        indicator=INDICATOR,
        domain=DOMAIN,
        as_of_date=as_of,
        model_class="warning_models.macro.hp_filter.one_sided_hp_trend",
        training_start=used["period_end_date"].min(),
        training_end=used["period_end_date"].max(),
        n_obs=len(used),
        params={
            "lamb": config.hp_lambda,
            "one_sided": "expanding window, last point of hpfilter(ratio[:t+1])",
            "min_quarters": config.min_quarters,
            "buffer_gap_low_pp": config.buffer_gap_low_pp,
            "buffer_gap_high_pp": config.buffer_gap_high_pp,
            "buffer_max_pct": config.buffer_max_pct,
        },
        fit_stats={
            "economies": len(latest_gaps),
            "latest_gap_pp": latest_gaps,
            "latest_quarter": latest_quarters,
            "buffer_guide_pct": {k: buffer_guide_pct(v, config) for k, v in latest_gaps.items()},
            "economies_too_short": skipped,
        },
        data_hash=data_hash(used.reset_index(drop=True)),
    )
    table = TableRows(
        "warning.credit_gap_quarters",
        ("economy_code", "period_end_date", "published_date", "credit_to_gdp_pct", "trend_pct", "gap_pp",
         "buffer_guide_pct"),
        gap_rows,
    )
    return IndicatorResult(run, values, alerts, [table])
