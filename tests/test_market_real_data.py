"""Real prices through the whole pipeline: the S&P 500 closes shipped in the arch wheel, written as landing
files (history + daily), loaded, gated, modeled by dbt and scored, on a real PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import numpy as np
import psycopg2
import pytest

from tests.conftest import settings_for
from warning_models.indicators.market_regime import MarketRegimeConfig, history_regimes
from warning_models.market.public_data import INSTRUMENT_ID, load_sp500, write_landing
from warning_models.pipeline import backfill
from warning_models.warehouse import connect

FIRST, LAST = dt.date(2018, 12, 3), dt.date(2018, 12, 7)  # 5 December 2018: NYSE closed (a day of mourning)


@pytest.fixture(scope="module")
def real_market(make_database: Callable[[], str], tmp_path_factory: pytest.TempPathFactory) -> str:
    home: Path = tmp_path_factory.mktemp("sp500")
    url = make_database()
    settings = settings_for(home, url)
    written = write_landing(settings.landing_dir, FIRST, LAST)
    assert written.history_rows == sum(d < FIRST for d in load_sp500().index)
    backfill(FIRST, LAST, settings=settings, url=url)
    return url


def _one(url: str, query: str, *args: object) -> tuple:
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute(query, args)
        return cur.fetchone()


def test_real_history_and_daily_closes_pass_the_gate_into_the_marts(real_market: str) -> None:
    closes = load_sp500()
    passed = _one(real_market, "select count(*) filter (where status = 'passed'), count(*) from audit.batches "
                  "where source in ('market_price_history', 'market_prices')")
    assert passed == (5, 5)  # one history file, four daily files (no file on the 5th: the exchange was closed)
    rows, first, last = _one(real_market, "select count(*), min(price_date), max(price_date) from "
                             "marts.fct_instrument_returns where instrument_id = %s", INSTRUMENT_ID)
    assert rows == sum(d <= LAST for d in closes.index) and first == closes.index[0] and last == LAST
    skipped = _one(real_market, "select trading_days_skipped from marts.fct_instrument_returns "
                   "where instrument_id = %s and price_date = '2018-12-06'", INSTRUMENT_ID)
    assert skipped == (1,)  # the contract expected the 5th; the real calendar closed


def test_real_var_backtest_counts_the_exceptions_independently(real_market: str) -> None:
    closes = load_sp500()
    r = (closes / closes.shift(1) - 1).dropna()
    r = r[r.index <= LAST].to_numpy()
    hits = sum(r[t] < np.sort(r[t - 250 : t])[2] for t in range(len(r) - 250, len(r)))
    row = _one(real_market, "select observations_count, exceptions_count, traffic_light_zone from warning.var_backtests "
               "where model_run_id = %s and entity_id = %s and method = 'historical' and confidence_pct = 99",
               f"market_var:{LAST}", INSTRUMENT_ID)
    zone = "green" if hits <= 4 else "yellow" if hits <= 9 else "red"
    assert row == (250, hits, zone)


def test_real_regime_flags_the_known_stress_periods_and_alerts_in_december_2018(real_market: str) -> None:
    with connect(real_market) as conn:
        report = history_regimes(conn, LAST, MarketRegimeConfig())

    def flagged(day: dt.date) -> bool:
        return any(p.first <= day <= p.last for p in report.filtered_periods)

    for crisis_day in (dt.date(2002, 7, 23), dt.date(2008, 10, 15), dt.date(2011, 8, 8), dt.date(2015, 8, 24)):
        assert flagged(crisis_day), crisis_day
    for calm_day in (dt.date(2005, 6, 15), dt.date(2013, 6, 3), dt.date(2017, 6, 15)):
        assert not flagged(calm_day), calm_day
    calm, high = report.fit.sigma2
    assert high > 4 * calm
    probability, kind = _one(real_market, "select value, indicator from warning.alerts where as_of_date = %s and "
                             "indicator = 'market_stress_regime'", LAST)
    assert probability >= 0.8 and kind == "market_stress_regime"
