"""Market: one-day VaR and ES with their daily backtest, per instrument, for the market index and for each
trading portfolio, and the alerts a market-risk desk acts on.

For every series, method (historical, filtered historical, parametric) and level (99 %, 97.5 %): the forecast
for the next trading day, how the forecast made the day before turned out (the day's exception record), and the
backtest over the trailing 250 trading days (Kupiec, Christoffersen independence and conditional coverage, the
Basel traffic light), recomputed from the prices every run so a rerun gives the same figures
(``warning_models.market``). The value published per index or portfolio is its VaR at 99 % by the desk's
method (``alert_method``).

Alerts, on the index and the portfolios, by the desk's method at 99 %:
- the traffic light turning yellow or red (the zone of the full window ending today worse than yesterday's;
  a history shorter than the window has its zone stored, not alerted);
- clustered exceptions: today an exception, with at least ``cluster_min_exceptions`` in the last 10 days;
- a drawdown from the 252-day peak crossing ``drawdown_medium_pct`` or ``drawdown_high_pct`` (again only after
  ``drawdown_rearm_days`` trading days short of it).
"""

from __future__ import annotations

import datetime as dt
import zlib
from dataclasses import dataclass

import numpy as np
import pandas as pd
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
)
from warning_models.market.assessment import Assessment, VarSettings, assess_portfolio, assess_series
from warning_models.market.var import VarMethod

INDICATOR = "market_var"
DOMAIN = Domain.MARKET
INDEX_ID = "MARKET"  # the equal-weight index of every instrument (marts.fct_market_index_days)
ZONE_RANK = {"green": 0, "yellow": 1, "red": 2}


@dataclass(frozen=True)
class MarketVarConfig:
    """Settings of the VaR indicator; each can be set with ``EWS_VAR_<FIELD>``."""

    level_pct: float = 99.0  # Basel backtesting level (traffic light)
    second_level_pct: float = 97.5  # FRTB expected-shortfall level
    window_days: int = 250  # historical sample of the simulation methods
    backtest_days: int = 250  # the backtest window
    min_backtest_days: int = 60  # a shorter history gets no backtest
    burn_in_days: int = 60  # extra history read so the EWMA forgets its seed
    ewma_lambda: float = 0.94
    ewma_seed_returns: int = 30
    alert_method: str = "filtered_historical"  # the desk's model: its value is published and alerts
    cluster_window_days: int = 10
    cluster_min_exceptions: int = 2
    drawdown_medium_pct: float = 10.0
    drawdown_high_pct: float = 20.0
    drawdown_peak_days: int = 252
    drawdown_rearm_days: int = 20  # a drawdown alert fires again only after this many days under the limit
    instruments: bool = True  # assess every instrument in the run; False: instrument shards add them after

    def __post_init__(self) -> None:
        VarMethod(self.alert_method)  # ValueError on an unknown method

    @classmethod
    def from_env(cls) -> "MarketVarConfig":
        return config_from_env(cls, "VAR")

    @property
    def settings(self) -> VarSettings:
        return VarSettings(
            self.window_days, self.backtest_days, self.min_backtest_days, self.ewma_lambda, self.ewma_seed_returns
        )

    @property
    def levels(self) -> tuple[float, float]:
        return self.level_pct / 100, self.second_level_pct / 100

    @property
    def trading_days_read(self) -> int:
        return self.window_days + self.backtest_days + self.burn_in_days + 2


_FIRST_DAY_SQL = """
    select min(price_date) from (
        select price_date from marts.fct_market_index_days where price_date <= %s order by price_date desc limit %s
    ) as recent
"""
_INSTRUMENTS_SQL = """
    select instrument_id, price_date, simple_return
    from marts.fct_instrument_returns
    where price_date between %s and %s and simple_return is not null
    order by instrument_id, price_date
"""
_INDEX_SQL = """
    select price_date, exp(index_log_return) - 1 as simple_return, drawdown_252d_pct
    from marts.fct_market_index_days
    where price_date between %s and %s and index_log_return is not null
    order by price_date
"""
_HOLDINGS_SQL = """
    select portfolio_id, position_date, instrument_id, market_value_amount
    from marts.fct_portfolio_positions
    where position_date between %s and %s and market_value_amount is not null
    order by portfolio_id, position_date, instrument_id
"""
_PORTFOLIO_DAYS_SQL = """
    select portfolio_id, position_date, hypothetical_return, gross_exposure_amount, unpriced_positions_count
    from marts.fct_portfolio_days
    where position_date between %s and %s
    order by portfolio_id, position_date
"""


@dataclass(frozen=True)
class Series:
    """One assessed entity: its assessments by (method, level), and what the alerts need."""

    entity_type: str  # 'instrument' or 'portfolio' (warning.market_var_days)
    entity_id: str
    assessments: dict[tuple[VarMethod, float], Assessment]
    gross_exposure: float | None = None  # portfolios: for VaR in currency
    drawdown_pct: np.ndarray | None = None  # the last days' drawdowns (%, <= 0), today last
    unpriced_positions: int = 0


def _drawdowns(levels: np.ndarray, peak_days: int) -> np.ndarray | None:
    """Drawdown (%) from the trailing peak on every day of a level series."""
    if levels.size < 2:
        return None
    peaks = pd.Series(levels).rolling(peak_days, min_periods=1).max().to_numpy()
    return (levels / peaks - 1) * 100


def _assess_all(dates: list[dt.date], r: np.ndarray, config: MarketVarConfig) -> dict[tuple[VarMethod, float], Assessment]:
    found = {}
    for method in VarMethod:
        for level in config.levels:
            a = assess_series(dates, r, method, level, config.settings)
            if a is not None:
                found[(method, level)] = a
    return found


def _portfolios(conn: psycopg2.extensions.connection, first: dt.date, as_of: dt.date, returns: pd.DataFrame,
                config: MarketVarConfig) -> tuple[list[Series], pd.DataFrame]:
    holdings = read_frame(conn, _HOLDINGS_SQL, (first, as_of))
    days = read_frame(conn, _PORTFOLIO_DAYS_SQL, (first, as_of))
    found: list[Series] = []
    for portfolio, book in holdings.groupby("portfolio_id", sort=True):
        values = book.pivot(index="position_date", columns="instrument_id", values="market_value_amount").astype(float)
        weights = values.div(values.abs().sum(axis=1), axis=0).fillna(0.0)
        own = days[days["portfolio_id"] == portfolio].set_index("position_date")
        realised = own["hypothetical_return"].astype(float)
        assessments = {}
        for method in VarMethod:
            for level in config.levels:
                a = assess_portfolio(returns, weights, realised, method, level, config.settings)
                if a is not None:
                    assessments[(method, level)] = a
        growth = np.cumprod(1 + realised.fillna(0.0).to_numpy())
        found.append(
            Series(
                "portfolio",
                str(portfolio),
                assessments,
                gross_exposure=float(own["gross_exposure_amount"].iloc[-1]) if len(own) else None,
                drawdown_pct=_drawdowns(growth, config.drawdown_peak_days),
                unpriced_positions=int(own["unpriced_positions_count"].iloc[-1]) if len(own) else 0,
            )
        )
    return found, holdings


def _alerts(series: Series, config: MarketVarConfig) -> list[Alert]:
    entity_type = EntityType.MARKET if series.entity_id == INDEX_ID and series.entity_type == "portfolio" else EntityType.PORTFOLIO
    method = VarMethod(config.alert_method)
    a = series.assessments.get((method, config.levels[0]))
    label = "the market index" if entity_type is EntityType.MARKET else f"portfolio {series.entity_id}"
    alerts: list[Alert] = []
    if a is not None and a.backtest is not None and a.backtest_before is not None:
        zone, before = a.backtest.traffic_light.zone, a.backtest_before.traffic_light.zone
        # Basel judges a full window: a shorter history's zone is stored, not alerted
        full = a.backtest.n_obs >= config.backtest_days
        if full and ZONE_RANK[str(zone)] > ZONE_RANK[str(before)]:
            b = a.backtest
            alerts.append(
                Alert(
                    entity_type, series.entity_id, float(b.exceptions), 5.0 if str(zone) == "yellow" else 10.0,
                    Severity.HIGH if str(zone) == "red" else Severity.MEDIUM,
                    f"Basel traffic light of {label} turned {zone} (was {before}) on {a.last_date}: {b.exceptions} "
                    f"exceptions of the {method.value.replace('_', ' ')} 99 % VaR in the last {b.n_obs} trading days "
                    f"against {b.expected_exceptions:.1f} expected (binomial P(X <= {b.exceptions}) = "
                    f"{b.traffic_light.cumulative_probability:.4f}); Kupiec p {b.kupiec.p_value:.3f}, Christoffersen "
                    f"independence p {b.independence.p_value:.3f}"
                    + (f"; Basel plus factor {b.traffic_light.plus_factor:.2f}." if b.traffic_light.plus_factor is not None else "."),
                    kind="market_var_traffic_light",
                )
            )
        recent = a.backtest.exceptions_last_10_days
        if a.is_exception and recent >= config.cluster_min_exceptions and a.previous_var is not None:
            alerts.append(
                Alert(
                    entity_type, series.entity_id, float(recent), float(config.cluster_min_exceptions),
                    Severity.HIGH if recent >= config.cluster_min_exceptions + 1 else Severity.MEDIUM,
                    f"Clustered VaR exceptions on {label}: the return of {a.realised * 100:+.2f} % on {a.last_date} "
                    f"broke the 99 % VaR of {a.previous_var * 100:.2f} %: {recent} exceptions in the last "
                    f"{config.cluster_window_days} trading days, this one included (about "
                    f"{config.cluster_window_days * (1 - config.levels[0]):.1f} expected); "
                    f"Christoffersen independence p {a.backtest.independence.p_value:.3f} over {a.backtest.n_obs} days. "
                    f"Tomorrow's 99 % VaR is {a.var * 100:.2f} %.",
                    kind="market_var_exception_cluster",
                )
            )
    if series.drawdown_pct is not None and series.drawdown_pct.size >= 2:
        today_dd, before_dd = float(series.drawdown_pct[-1]), float(series.drawdown_pct[-2])
        deepest_before = -float(np.min(series.drawdown_pct[-1 - config.drawdown_rearm_days : -1]))
        for limit, severity in ((config.drawdown_high_pct, Severity.HIGH), (config.drawdown_medium_pct, Severity.MEDIUM)):
            # crossing the limit, and not already beyond it in the rearm window (no alert per wobble)
            if -today_dd >= limit > deepest_before:
                alerts.append(
                    Alert(
                        entity_type, series.entity_id, -today_dd, limit, severity,
                        f"Drawdown of {label} reached {-today_dd:.1f} % below its {config.drawdown_peak_days}-day peak "
                        f"(from {-before_dd:.1f} % the trading day before), crossing {limit:.0f} %.",
                        kind="market_drawdown",
                    )
                )
                break
    return alerts


def _var_rows(series: Series) -> list[tuple[object, ...]]:
    rows = []
    for (method, level), a in sorted(series.assessments.items(), key=lambda kv: (kv[0][0].value, kv[0][1])):
        rows.append((
            series.entity_type, series.entity_id, method.value, level * 100, a.last_date, a.var * 100, a.es * 100,
            a.var * series.gross_exposure if series.gross_exposure is not None else None, a.ewma_sigma * 100,
            a.previous_var * 100 if a.previous_var is not None else None,
            a.realised * 100 if a.realised is not None else None, a.is_exception,
        ))
    return rows


def _backtest_rows(series: Series) -> list[tuple[object, ...]]:
    rows = []
    for (method, level), a in sorted(series.assessments.items(), key=lambda kv: (kv[0][0].value, kv[0][1])):
        b = a.backtest
        if b is None or a.window_dates is None:
            continue
        tl = b.traffic_light
        rows.append((
            series.entity_type, series.entity_id, method.value, level * 100, a.window_dates[0], a.window_dates[1],
            b.n_obs, b.exceptions, b.expected_exceptions, b.kupiec.statistic, b.kupiec.p_value,
            b.independence.statistic, b.independence.p_value, b.conditional_coverage.statistic,
            b.conditional_coverage.p_value, str(tl.zone), tl.cumulative_probability, tl.plus_factor,
            b.max_exceptions_in_10_days,
        ))
    return rows


def compute(
    conn: psycopg2.extensions.connection, as_of: dt.date, config: MarketVarConfig | None = None
) -> IndicatorResult:
    """VaR, ES and backtests of every instrument, the index and each portfolio on the last trading day <= as_of."""
    config = config or MarketVarConfig.from_env()
    with conn.cursor() as cur:
        cur.execute(_FIRST_DAY_SQL, (as_of, config.trading_days_read))
        first = cur.fetchone()[0]
    index = read_frame(conn, _INDEX_SQL, (first, as_of)) if first is not None else pd.DataFrame()
    needed = max(config.window_days, config.ewma_seed_returns)
    if len(index) < needed:
        raise InsufficientHistoryError(INDICATOR, needed, len(index))
    instruments = read_frame(conn, _INSTRUMENTS_SQL, (first, as_of))
    instruments["simple_return"] = instruments["simple_return"].astype(float)
    returns = instruments.pivot(index="price_date", columns="instrument_id", values="simple_return").sort_index()

    series = _instrument_series(instruments, config) if config.instruments else []
    index_dates = list(index["price_date"])
    index_returns = index["simple_return"].astype(float).to_numpy()
    drawdown = index["drawdown_252d_pct"].astype(float).to_numpy()
    series.append(
        Series("portfolio", INDEX_ID, _assess_all(index_dates, index_returns, config), drawdown_pct=drawdown)
    )
    portfolios, holdings = _portfolios(conn, first, as_of, returns, config)
    series += portfolios

    method = VarMethod(config.alert_method)
    values, alerts, zones = [], [], {}
    for s in series:
        if s.entity_type != "portfolio":
            continue
        alerts += _alerts(s, config)
        a = s.assessments.get((method, config.levels[0]))
        if a is not None:
            kind = EntityType.MARKET if s.entity_id == INDEX_ID else EntityType.PORTFOLIO
            values.append(IndicatorValue(kind, s.entity_id, a.var * 100, None))
            zones[s.entity_id] = str(a.backtest.traffic_light.zone) if a.backtest is not None else None

    exceptions_today = sum(
        1 for s in series for (m, lvl), a in s.assessments.items() if m is method and lvl == config.levels[0] and a.is_exception
    )
    run = ModelRun(
        indicator=INDICATOR,
        domain=DOMAIN,
        as_of_date=as_of,
        model_class="warning_models.market (historical, filtered historical and parametric VaR/ES; Kupiec, "
        "Christoffersen, Basel traffic light)",
        training_start=first,
        training_end=index_dates[-1],
        n_obs=int(len(instruments)),
        params={
            "levels_pct": [config.level_pct, config.second_level_pct],
            "window_days": config.window_days,
            "backtest_days": config.backtest_days,
            "ewma_lambda": config.ewma_lambda,
            "ewma_seed_returns": config.ewma_seed_returns,
            "alert_method": config.alert_method,
            "quantile": "k-th smallest, k = ceil(N * (1 - level)); ES = mean of the k smallest",
            "portfolio_returns": "hypothetical P&L of the previous day's holdings over their gross exposure",
        },
        fit_stats={
            "series": len(series),
            "instruments": sum(s.entity_type == "instrument" for s in series),
            "instruments_in_shards": not config.instruments,
            "portfolios": [s.entity_id for s in portfolios],
            "traffic_light_zone": zones,
            "exceptions_today_99": exceptions_today,
            "unpriced_positions": {s.entity_id: s.unpriced_positions for s in portfolios if s.unpriced_positions},
            "latest_return_date": index_dates[-1].isoformat(),
        },
        data_hash=data_hash(pd.concat([instruments, holdings.astype({"market_value_amount": float})], ignore_index=True)
                            if len(holdings) else instruments),
    )
    return IndicatorResult(run, values, alerts, _tables(series))


VAR_DAY_COLUMNS = (
    "entity_type", "entity_id", "method", "confidence_pct", "price_date", "var_pct", "es_pct", "var_amount",
    "ewma_vol_pct", "previous_var_pct", "realised_return_pct", "is_exception",
)
BACKTEST_COLUMNS = (
    "entity_type", "entity_id", "method", "confidence_pct", "window_start_date", "window_end_date",
    "observations_count", "exceptions_count", "expected_exceptions", "kupiec_lr", "kupiec_p_value",
    "independence_lr", "independence_p_value", "conditional_coverage_lr", "conditional_coverage_p_value",
    "traffic_light_zone", "traffic_light_cumulative_probability", "plus_factor", "max_exceptions_10_days",
)


def _tables(series: list[Series]) -> list[TableRows]:
    return [
        TableRows("warning.market_var_days", VAR_DAY_COLUMNS, [row for s in series for row in _var_rows(s)]),
        TableRows("warning.var_backtests", BACKTEST_COLUMNS, [row for s in series for row in _backtest_rows(s)]),
    ]


def _instrument_series(instruments: pd.DataFrame, config: MarketVarConfig) -> list[Series]:
    """Each instrument's VaR, ES and backtests: the per-entity work, independent of every other series."""
    series: list[Series] = []
    for instrument, rows in instruments.groupby("instrument_id", sort=True):
        assessed = _assess_all(list(rows["price_date"]), rows["simple_return"].to_numpy(), config)
        if assessed:
            series.append(Series("instrument", str(instrument), assessed))
    return series


def in_shard(entity_id: str, shard: int, shards: int) -> bool:
    """Whether an entity belongs to shard ``shard`` of ``shards``: a stable split (crc32 of the id)."""
    return zlib.crc32(entity_id.encode()) % shards == shard


def publish_instrument_shard(
    conn: psycopg2.extensions.connection, as_of: dt.date, shard: int, shards: int, config: MarketVarConfig | None = None
) -> int:
    """Assess the instruments of one shard and add their rows to the day's run (published without them:
    ``instruments=False``), replacing what the shard wrote before; the rows written. No commit.

    The shards of a day are independent of each other (the DAG maps them over the Celery workers): together they
    write exactly the rows a run with every instrument writes."""
    from warning_models.publish import copy_rows, jsonable_row

    config = config or MarketVarConfig.from_env()
    run_id = f"{INDICATOR}:{as_of.isoformat()}"
    with conn.cursor() as cur:
        cur.execute("select (fit_stats->>'latest_return_date')::date from warning.model_runs where model_run_id = %s",
                    (run_id,))
        found = cur.fetchone()
        if found is None:
            raise InsufficientHistoryError(INDICATOR, 1, 0)  # no run that day: too little history, nothing to add
        cur.execute(_FIRST_DAY_SQL, (as_of, config.trading_days_read))
        first = cur.fetchone()[0]
    instruments = read_frame(conn, _INSTRUMENTS_SQL, (first, as_of))
    mine = [i for i in instruments["instrument_id"].unique().tolist() if in_shard(str(i), shard, shards)]
    instruments = instruments[instruments["instrument_id"].isin(mine)].copy()
    instruments["simple_return"] = instruments["simple_return"].astype(float)
    written = 0
    with conn.cursor() as cur:
        for table in _tables(_instrument_series(instruments, config)):
            schema, name = table.table.split(".")
            cur.execute(
                f"delete from {table.table} where model_run_id = %s and entity_type = 'instrument' "
                "and entity_id = any(%s)",
                (run_id, mine),
            )
            written += copy_rows(
                cur, schema, name, ("model_run_id", *table.columns), [jsonable_row((run_id, *r)) for r in table.rows]
            )
    return written
