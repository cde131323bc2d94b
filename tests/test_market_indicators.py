"""The market indicators on synthetic marts (tests/indicator_fixtures.py): VaR with its daily backtest and
alerts, and the Markov regime with its refit schedule, against a real PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator

import numpy as np
import psycopg2
import psycopg2.extensions
import pytest

from tests.indicator_fixtures import (
    LoanBook,
    MarketPath,
    TradingBook,
    copy_frame,
    load_marts,
    market_index_days,
    portfolio_marts,
)
from warning_models.indicators import market_regime, market_var
from warning_models.publish import publish
from warning_models.warehouse import connect

STRESS_DAYS = (dt.date(2024, 6, 6), dt.date(2024, 6, 13))  # inside the fixture's second high-volatility episode
CALM_DAYS = (dt.date(2023, 10, 16), dt.date(2024, 1, 22), dt.date(2024, 4, 26))


@pytest.fixture(scope="module")
def db_url(make_database: Callable[[], str]) -> str:
    url = make_database()
    with connect(url) as conn:
        load_marts(conn, LoanBook())
    return url


@pytest.fixture
def conn(db_url: str) -> Iterator[psycopg2.extensions.connection]:
    connection = psycopg2.connect(db_url)
    try:
        yield connection
    finally:
        connection.rollback()
        connection.close()


def _rows(result: object, table: str) -> list[dict[str, object]]:
    found = next(t for t in result.tables if t.table == table)  # type: ignore[attr-defined]
    return [dict(zip(found.columns, r)) for r in found.rows]


def _row(result: object, table: str, entity: str, method: str, level: float) -> dict[str, object]:
    return next(
        r for r in _rows(result, table)
        if r["entity_id"] == entity and r["method"] == method and r["confidence_pct"] == level
    )


# --------------------------------------------------------------------------------------------------- VaR


def test_market_var_historical_var_is_the_third_worst_of_the_last_250_returns(conn: psycopg2.extensions.connection) -> None:
    as_of = dt.date(2024, 4, 26)
    result = market_var.compute(conn, as_of)

    index = market_index_days()
    known = index[(index.price_date <= as_of) & index.index_log_return.notna()]
    simple = np.expm1(known["index_log_return"].to_numpy()[-250:])
    row = _row(result, "warning.market_var_days", "MARKET", "historical", 99.0)
    assert row["var_pct"] == pytest.approx(-np.sort(simple)[2] * 100, rel=1e-9)
    assert row["es_pct"] == pytest.approx(-np.sort(simple)[:3].mean() * 100, rel=1e-9)
    assert row["price_date"] == as_of
    # portfolios: VaR in currency at the day's gross exposure
    _, days = portfolio_marts()
    gross = float(days.loc[days.position_date == as_of, "gross_exposure_amount"].iloc[0])
    book = _row(result, "warning.market_var_days", TradingBook().portfolio_id, "filtered_historical", 99.0)
    assert book["var_amount"] == pytest.approx(book["var_pct"] / 100 * gross, rel=1e-9)
    assert {v.entity_id for v in result.values} == {"MARKET", "BOOK"}


def test_market_var_forecast_checked_today_is_the_one_published_yesterday(conn: psycopg2.extensions.connection) -> None:
    yesterday, today = dt.date(2024, 6, 12), dt.date(2024, 6, 13)
    before = market_var.compute(conn, yesterday)
    now = market_var.compute(conn, today)
    for entity in ("MARKET", "EQ1", "BOOK"):
        for method in ("historical", "filtered_historical", "parametric"):
            published = _row(before, "warning.market_var_days", entity, method, 99.0)
            checked = _row(now, "warning.market_var_days", entity, method, 99.0)
            assert checked["previous_var_pct"] == pytest.approx(published["var_pct"], rel=1e-9), (entity, method)
            assert checked["is_exception"] == (checked["realised_return_pct"] < -checked["previous_var_pct"])


def test_market_var_alerts_on_the_stress_and_not_on_calm_days(conn: psycopg2.extensions.connection) -> None:
    drawdown_day, cluster_day = STRESS_DAYS
    drawdown = market_var.compute(conn, drawdown_day).alert_for("MARKET", "market_drawdown")
    assert drawdown is not None and "10 %" in drawdown.explanation and drawdown.value >= 10
    cluster = market_var.compute(conn, cluster_day).alert_for("MARKET", "market_var_exception_cluster")
    assert cluster is not None and "exceptions in the last 10 trading days" in cluster.explanation
    for day in CALM_DAYS:
        assert market_var.compute(conn, day).alerts == [], day


def test_market_var_traffic_light_turns_on_a_full_window_only(conn: psycopg2.extensions.connection) -> None:
    short = market_var.MarketVarConfig(backtest_days=250)
    result = market_var.compute(conn, dt.date(2024, 6, 4), short)
    book = _row(result, "warning.var_backtests", "BOOK", "filtered_historical", 99.0)
    assert book["observations_count"] < 250 and book["traffic_light_zone"] == "yellow"
    assert result.alert_for("BOOK", "market_var_traffic_light") is None  # 153 days: stored, not alerted
    window = market_var.MarketVarConfig(backtest_days=120)  # a 120-day window is full for the index
    turned = market_var.compute(conn, dt.date(2024, 6, 4), window)
    alert = turned.alert_for("MARKET", "market_var_traffic_light")
    assert alert is not None and "turned yellow (was green)" in alert.explanation
    assert "in the last 120 trading days" in alert.explanation
    stays = market_var.compute(conn, dt.date(2024, 6, 5), window)  # still yellow: no new alert
    assert stays.run.fit_stats["traffic_light_zone"]["MARKET"] == "yellow"
    assert stays.alert_for("MARKET", "market_var_traffic_light") is None


def test_market_var_backtest_counts_the_exceptions_of_the_window(conn: psycopg2.extensions.connection) -> None:
    result = market_var.compute(conn, dt.date(2024, 6, 28))
    row = _row(result, "warning.var_backtests", "MARKET", "historical", 99.0)
    assert row["observations_count"] == 225 and row["expected_exceptions"] == pytest.approx(2.25)
    # an independent count: realised index returns against the 3rd-worst of the previous 250
    index = market_index_days()
    known = index[(index.price_date <= dt.date(2024, 6, 28)) & index.index_log_return.notna()]
    r = np.expm1(known["index_log_return"].to_numpy())
    dates = list(known["price_date"])
    hits = sum(r[t] < np.sort(r[t - 250 : t])[2] for t in range(len(r) - 225, len(r)))
    assert row["exceptions_count"] == hits and row["window_start_date"] == dates[len(r) - 225]
    zone = "green" if hits <= 4 else "yellow" if hits <= 9 else "red"
    assert row["traffic_light_zone"] in (zone, "yellow")  # 225 days: the binomial cut-offs of n = 225


def test_market_var_uses_nothing_after_as_of(conn: psycopg2.extensions.connection) -> None:
    as_of = dt.date(2024, 6, 13)
    before = market_var.compute(conn, as_of)
    with conn.cursor() as cur:
        cur.execute("update marts.fct_instrument_returns set simple_return = -0.5 where price_date > %s", (as_of,))
        cur.execute("update marts.fct_portfolio_days set hypothetical_return = -0.5 where position_date > %s", (as_of,))
        cur.execute("update marts.fct_market_index_days set index_log_return = -0.5 where price_date > %s", (as_of,))
    after = market_var.compute(conn, as_of)
    assert after.run.data_hash == before.run.data_hash
    assert after.tables[0].rows == before.tables[0].rows and after.tables[1].rows == before.tables[1].rows


def test_market_var_drawdown_alert_rearms_only_after_days_short_of_the_limit(
    conn: psycopg2.extensions.connection,
) -> None:
    index = market_index_days()
    days = [d for d in index["price_date"] if dt.date(2023, 12, 1) <= d <= dt.date(2024, 2, 29)]
    # 21 days at 5 %, cross 10 %, wobble back under and over, 20 days at 8 %, cross again
    path = [-5.0] * 21 + [-10.5, -9.5, -10.2] + [-8.0] * 20 + [-10.4]
    with conn.cursor() as cur:
        for day, drawdown in zip(days, path, strict=False):
            cur.execute("update marts.fct_market_index_days set drawdown_252d_pct = %s where price_date = %s",
                        (drawdown, day))

    def fired(i: int) -> bool:
        return market_var.compute(conn, days[i]).alert_for("MARKET", "market_drawdown") is not None

    first, wobble, again = 21, 23, len(path) - 1
    assert fired(first) and "crossing 10 %" in str(market_var.compute(conn, days[first]).alerts)
    assert not fired(first + 1) and not fired(wobble)  # under, then over again within the rearm window
    assert fired(again)  # 20 trading days short of the limit: armed again
    shorter = market_var.MarketVarConfig(drawdown_rearm_days=1)
    assert market_var.compute(conn, days[wobble], shorter).alert_for("MARKET", "market_drawdown") is not None


# ------------------------------------------------------------------------------------------------ regime


def test_market_regime_refits_on_schedule_and_applies_the_fit_in_between(conn: psycopg2.extensions.connection) -> None:
    config = market_regime.MarketRegimeConfig(refit_every_trading_days=5)
    first = market_regime.compute(conn, dt.date(2024, 5, 31), config)
    assert first.run.fit_stats["refitted"] and first.run.fit_stats["refit_reason"] == "no earlier fit"
    publish(conn, first)
    reused = market_regime.compute(conn, dt.date(2024, 6, 4), config)  # 2 new returns
    assert not reused.run.fit_stats["refitted"]
    assert reused.run.params["regime_params"] == first.run.params["regime_params"]
    assert reused.run.params["fitted_through"] == "2024-05-31"
    publish(conn, reused)
    refit = market_regime.compute(conn, dt.date(2024, 6, 10), config)  # 6 new returns since the fit
    assert refit.run.fit_stats["refitted"] and "6 returns since the fit" in refit.run.fit_stats["refit_reason"]
    assert refit.run.params["regime_params"] != first.run.params["regime_params"]


def test_market_regime_keeps_filtered_and_smoothed_apart(conn: psycopg2.extensions.connection) -> None:
    result = market_regime.compute(conn, dt.date(2024, 6, 28))
    days = _rows(result, "warning.market_regime_days")
    last = days[-1]
    # on the last day both use the same data; before it the smoothed one has seen later returns
    assert last["price_date"] == dt.date(2024, 6, 28)
    assert last["filtered_high_prob"] == pytest.approx(last["smoothed_high_prob"], abs=1e-9)
    assert max(abs(d["filtered_high_prob"] - d["smoothed_high_prob"]) for d in days[:-1]) > 0.2
    assert result.values[0].value == last["filtered_high_prob"]
    # the first day of the stress: the filtered probability is what was knowable, the smoothed one is hindsight
    onset = next(d for d in days if d["price_date"] == dt.date(2024, 6, 3))
    assert onset["smoothed_high_prob"] > onset["filtered_high_prob"]


def test_market_regime_a_calm_market_drifting_louder_is_not_stress(conn: psycopg2.extensions.connection) -> None:
    # calm 0.8 % a day, then months at 1.4 %: a distinct regime by the fit, but not a stressed market
    drifting = MarketPath(episodes=((dt.date(2024, 3, 1), dt.date(2024, 8, 30), 0.014),))
    with conn.cursor() as cur:
        cur.execute("delete from marts.fct_market_index_days")
        cur.execute("delete from warning.model_runs where indicator = %s", (market_regime.INDICATOR,))
    copy_frame(conn, "marts.fct_market_index_days", market_index_days(drifting))
    day = dt.date(2024, 6, 28)
    result = market_regime.compute(conn, day)
    stats = result.run.fit_stats
    assert result.values[0].value >= 0.8 and stats["regimes_distinct"]
    assert stats["ewma_vol_multiple_of_calm"] < 2 and result.alerts == []
    loose = market_regime.compute(conn, day, market_regime.MarketRegimeConfig(min_vol_multiple=1.0))
    assert loose.alert_for("MARKET") is not None


def test_instrument_shards_write_what_a_whole_run_writes(conn: psycopg2.extensions.connection) -> None:
    """The per-instrument VaR split over shards (the DAG maps them over the workers) adds up to the rows of a run
    that assessed every instrument itself, nothing twice; a shard run again replaces its own rows."""
    import dataclasses

    day = STRESS_DAYS[0]
    tables = ("warning.market_var_days", "warning.var_backtests")

    def rows() -> dict[str, list[tuple[object, ...]]]:
        with conn.cursor() as cur:
            out = {}
            for table in tables:
                cur.execute(f"select * from {table} where model_run_id = %s order by 1, 2, 3, 4, 5, 6", (f"market_var:{day}",))
                out[table] = cur.fetchall()
            return out

    publish(conn, market_var.compute(conn, day))
    whole = rows()
    assert any(r[1] == "instrument" for r in whole["warning.market_var_days"])
    config = dataclasses.replace(market_var.MarketVarConfig(), instruments=False)
    publish(conn, market_var.compute(conn, day, config))
    assert not any(r[1] == "instrument" for r in rows()["warning.market_var_days"])
    written = [market_var.publish_instrument_shard(conn, day, shard, 3) for shard in (0, 1, 2, 1)]
    assert sum(written[:3]) > 0 and written[1] == written[3]
    assert rows() == whole
    ids = [f"I{n:03d}" for n in range(100)]
    assert all(sum(market_var.in_shard(i, s, 3) for s in range(3)) == 1 for i in ids)  # each in one shard
    assert min(sum(market_var.in_shard(i, s, 3) for i in ids) for s in range(3)) > 20  # and spread
