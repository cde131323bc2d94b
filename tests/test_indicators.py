"""The four early-warning indicators, their publication and the runner, against a real PostgreSQL.

A scratch database per session (conftest's ``make_database``: migrated, dropped at the end) gets synthetic
marts with one planted anomaly per domain (tests/indicator_fixtures.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator

import numpy as np
import pandas as pd
import psycopg2
import psycopg2.extensions
import pytest
import statsmodels.api as sm
from statsmodels.tsa.filters.hp_filter import hpfilter

from tests.indicator_fixtures import (
    MARTS_DDL,
    Economies,
    LoanBook,
    MarketPath,
    UserActivity,
    bulk_loan_days,
    credit_to_gdp_quarters,
    load_marts,
)
from warning_models.credit.logit import FitMethod, LogitSettings, fit_logit
from warning_models.credit.validation import auc
from warning_models.errors import ConfigError, InsufficientHistoryError
from warning_models.indicators import IndicatorResult, Severity
from warning_models.indicators import (
    access_baseline,
    credit_pd,
    credit_portfolio,
    macro_credit_gap,
    market_regime,
    market_var,
)
from warning_models.indicators.runner import INDICATORS, OutcomeStatus, run_indicators, select_indicators
from warning_models.warehouse import connect

AS_OF = dt.date(2024, 6, 28)  # a Friday inside every synthetic data set, and inside the market stress episode
CALM_MARKET_DAY = dt.date(2024, 4, 26)  # a year after the first episode, before the second
BOOK = LoanBook()
USERS = UserActivity()


@pytest.fixture(scope="session")
def db_url(make_database: Callable[[], str]) -> str:
    """A migrated scratch database (dropped at the end of the session) holding the synthetic marts."""
    url = make_database()
    with connect(url) as conn:
        load_marts(conn, BOOK)
    return url


@pytest.fixture
def conn(db_url: str) -> Iterator[psycopg2.extensions.connection]:
    """A connection whose changes are rolled back: tests may rewrite the marts inside it."""
    connection = psycopg2.connect(db_url)
    try:
        yield connection
    finally:
        connection.rollback()
        connection.close()


def _count(conn: psycopg2.extensions.connection, table: str, indicator: str, as_of: dt.date) -> int:
    """Rows of ``table`` written by the indicator's run of ``as_of`` (its alerts of every kind)."""
    with conn.cursor() as cur:
        cur.execute(f"select count(*) from warning.{table} where model_run_id = %s", (f"{indicator}:{as_of}",))
        return int(cur.fetchone()[0])


def _values(result: IndicatorResult) -> dict[str, float]:
    return {v.entity_id: v.value for v in result.values}


# ---------------------------------------------------------------------------------------------------- credit


def test_credit_pd_flags_loans_sliding_into_default(conn: psycopg2.extensions.connection) -> None:
    result = credit_pd.compute(conn, AS_OF)

    run = result.run
    assert run.model_class == credit_pd.MODEL_CLASS
    assert run.fit_stats["converged"] and run.fit_stats["n_positive"] >= 10
    assert run.training_end is not None and run.training_end <= AS_OF - dt.timedelta(days=60)
    assert len(run.data_hash) == 64
    assert {"days_past_due", "max_dpd_30d"} <= set(run.params["scorecard"]["features"])
    values = _values(result)
    for loan in BOOK.sliding:
        alert = result.alert_for(loan, credit_pd.INDICATOR)
        assert alert is not None and alert.severity in (Severity.MEDIUM, Severity.HIGH), loan
        assert "PD" in alert.explanation and "days past due" in alert.explanation and "log-odds" in alert.explanation
        assert values[loan] >= 0.25
    healthy = BOOK.healthy[0]
    assert values[healthy] < 0.05 and result.alert_for(healthy) is None
    assert all(0.0 <= v <= 1.0 for v in values.values())


def test_credit_pd_uses_nothing_after_as_of(conn: psycopg2.extensions.connection) -> None:
    before = credit_pd.compute(conn, AS_OF)
    with conn.cursor() as cur:  # the future turns catastrophic: every loan defaults
        cur.execute(
            "update marts.fct_loan_days set days_past_due = 120, is_default = true, paid_amount = 0 "
            "where performance_date > %s",
            (AS_OF,),
        )
    after = credit_pd.compute(conn, AS_OF)
    assert after.run.data_hash == before.run.data_hash
    assert _values(after) == _values(before)


def test_credit_fit_survives_perfect_separation() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=400)
    frame = pd.DataFrame({"signal": x, "constant": 1.0, "noise": rng.normal(size=400)})
    y = x > 0.5  # perfectly separated by one feature

    fit = fit_logit(frame, y, LogitSettings())

    assert fit.method is FitMethod.RIDGE_FALLBACK
    assert fit.dropped == ["constant"]
    assert np.all(np.isfinite(fit.coef))
    assert fit.columns[int(np.argmax(np.abs(fit.coef[1:])))] == "signal"
    assert auc(y, fit.predict(frame)) > 0.95


def test_credit_pd_too_little_history(conn: psycopg2.extensions.connection) -> None:
    with pytest.raises(InsufficientHistoryError) as info:
        credit_pd.compute(conn, BOOK.start + dt.timedelta(days=45))
    assert info.value.indicator == credit_pd.INDICATOR


# ---------------------------------------------------------------------------------------------------- market


def test_market_regime_flags_the_stress_episode_not_a_calm_day(conn: psycopg2.extensions.connection) -> None:
    stressed = market_regime.compute(conn, AS_OF)
    calm = market_regime.compute(conn, CALM_MARKET_DAY)

    assert stressed.values[0].entity_id == "MARKET" and stressed.values[0].value >= 0.95
    alert = stressed.alert_for("MARKET")
    assert alert is not None and alert.severity is Severity.HIGH
    assert "EWMA volatility" in alert.explanation and "calm regime" in alert.explanation
    stats = stressed.run.fit_stats
    assert stats["regimes_distinct"] and stats["ewma_vol_annualised_pct"] > 2 * stats["calm_vol_annualised_pct"]
    assert stressed.run.training_end == AS_OF
    assert calm.values[0].value < 0.5 and calm.alerts == []


def test_market_regime_is_point_in_time(conn: psycopg2.extensions.connection) -> None:
    before = market_regime.compute(conn, AS_OF)
    with conn.cursor() as cur:  # later returns explode, and a later day appears
        cur.execute(
            "update marts.fct_market_index_days set index_log_return = index_log_return * 10 where price_date > %s",
            (AS_OF,),
        )
        cur.execute(
            "insert into marts.fct_market_index_days values ('2024-12-31', 50, -0.2, 80.0, -30.0)"
        )
    after = market_regime.compute(conn, AS_OF)
    assert after.run.data_hash == before.run.data_hash
    assert after.values[0].value == pytest.approx(before.values[0].value, abs=1e-12)
    assert after.run.params == before.run.params


def test_market_regime_too_little_history(conn: psycopg2.extensions.connection) -> None:
    with pytest.raises(InsufficientHistoryError) as info:
        market_regime.compute(conn, MarketPath().start + dt.timedelta(days=60))
    assert info.value.needed == 60 and info.value.available < 60


def test_one_sided_gap_is_the_last_point_of_hpfilter_on_data_up_to_t() -> None:
    ratio = credit_to_gdp_quarters().query("economy_code == 'BB'")["credit_to_gdp_pct"].to_numpy()
    gaps = macro_credit_gap.one_sided_gap(ratio, lamb=400_000, min_obs=12)

    assert np.all(np.isnan(gaps[:11])) and np.all(np.isfinite(gaps[11:]))
    for t in (11, 40, 80, len(ratio) - 1):
        cycle, trend = hpfilter(ratio[: t + 1], lamb=400_000)
        # float64 solves of this ill-conditioned system agree to ~1e-8 (see tests/test_macro_hp_filter.py)
        assert gaps[t] == pytest.approx(ratio[t] - trend[-1], abs=1e-7)
        assert gaps[t] == pytest.approx(cycle[-1], abs=1e-7)
    # the two-sided filter on the whole sample sees the future: it differs in the past
    two_sided_cycle, _ = hpfilter(ratio, lamb=400_000)
    assert abs(two_sided_cycle[40] - gaps[40]) > 1e-3
    tail = macro_credit_gap.one_sided_gap(ratio, tail=3)
    assert np.all(np.isnan(tail[:-3])) and np.allclose(tail[-3:], gaps[-3:])


def test_macro_credit_gap_flags_the_boom(conn: psycopg2.extensions.connection) -> None:
    spec = Economies()
    result = macro_credit_gap.compute(conn, AS_OF)

    values = _values(result)
    assert set(values) == {*spec.steady, *spec.boom}  # the young economy has fewer than 12 quarters
    assert result.run.fit_stats["economies_too_short"] == {spec.young[0]: 8}
    boom = result.alert_for(spec.boom[0])
    assert boom is not None and boom.severity is Severity.HIGH and boom.value >= 10
    assert "buffer guide 2.50 %" in boom.explanation
    for code in spec.steady:
        assert abs(values[code]) < 2 and result.alert_for(code) is None
    # independent check: the gap of the latest quarter published by AS_OF
    data = credit_to_gdp_quarters()
    known = data[(data.economy_code == spec.boom[0]) & (data.published_date <= AS_OF)]
    _, trend = hpfilter(known["credit_to_gdp_pct"].to_numpy(), lamb=400_000)
    assert values[spec.boom[0]] == pytest.approx(known["credit_to_gdp_pct"].iloc[-1] - trend[-1], abs=1e-7)
    assert result.run.training_end == known["period_end_date"].iloc[-1]


def test_macro_credit_gap_uses_only_published_figures(conn: psycopg2.extensions.connection) -> None:
    before = macro_credit_gap.compute(conn, AS_OF)
    with conn.cursor() as cur:  # a quarter published after AS_OF, with a huge ratio
        cur.execute(
            "insert into marts.fct_credit_to_gdp_quarters values "
            "('AA:2024-06-30', 'AA', '2024-06-30', 1, 1, 1, 400.0, '2024-09-18')"
        )
    after = macro_credit_gap.compute(conn, AS_OF)
    assert _values(after) == _values(before) and after.run.data_hash == before.run.data_hash
    later = macro_credit_gap.compute(conn, dt.date(2024, 9, 30))
    assert later.value_of("AA") > 100  # the filter on published_date is what kept it out


def test_buffer_guide() -> None:
    config = macro_credit_gap.MacroCreditGapConfig()
    guide = [macro_credit_gap.buffer_guide_pct(g, config) for g in (-3.0, 2.0, 6.0, 10.0, 15.0)]
    assert guide == pytest.approx([0.0, 0.0, 1.25, 2.5, 2.5])


def test_macro_credit_gap_too_little_history(conn: psycopg2.extensions.connection) -> None:
    with pytest.raises(InsufficientHistoryError):
        macro_credit_gap.compute(conn, dt.date(1997, 6, 30))


# ---------------------------------------------------------------------------------------------------- access


def test_access_flags_the_insider_day_not_a_busy_day(conn: psycopg2.extensions.connection) -> None:
    result = access_baseline.compute(conn, AS_OF)

    assert [a.entity_id for a in result.alerts] == [USERS.insider]
    alert = result.alerts[0]
    assert alert.severity is Severity.HIGH
    for words in (
        "events", "rows read", "new client network", "unusual hours", "sensitive-object events", "exports",
        "never touched before: cards.card_numbers (0 of 9 peers in group1)",
    ):
        assert words in alert.explanation, words
    busy = result.value_of(USERS.busy)
    assert busy is not None and busy < access_baseline.AccessBaselineConfig().alert_medium_score
    assert len(result.values) == USERS.n_users
    assert result.run.training_end == AS_OF - dt.timedelta(days=1)  # as_of is never in its own baseline
    assert result.run.training_start == AS_OF - dt.timedelta(days=56)
    for weekend_day in (dt.date(2024, 6, 29), dt.date(2024, 6, 30)):
        assert access_baseline.compute(conn, weekend_day).alerts == []


def test_access_baseline_excludes_the_tested_day_and_the_future(conn: psycopg2.extensions.connection) -> None:
    before = access_baseline.compute(conn, AS_OF)
    with conn.cursor() as cur:  # as_of itself and the days after change: the baseline must not move
        cur.execute(
            "update marts.fct_user_days set events_count = events_count * 100 where activity_date >= %s "
            "and user_id <> %s",
            (AS_OF, USERS.insider),
        )
    after = access_baseline.compute(conn, AS_OF)
    assert after.run.data_hash == before.run.data_hash
    assert after.run.params == before.run.params
    assert after.value_of(USERS.insider) == pytest.approx(before.value_of(USERS.insider))


def test_access_glm_is_the_joint_poisson_mle() -> None:
    rng = np.random.default_rng(4)
    users, days = 6, 35
    user = np.repeat(np.arange(users), days)
    dow = np.tile(np.arange(days) % 7, users)
    rate = np.exp(rng.uniform(1, 4, users)[user] + np.where(dow >= 5, -1.5, 0.0))
    y = rng.poisson(rate).astype(float)
    frame = pd.DataFrame({"user_id": [f"u{u}" for u in user], "dow": dow, "events_count": y})
    config = access_baseline.AccessBaselineConfig(trim_p_value=0.0)

    fit = access_baseline.fit_baseline(frame, config)

    dummies = pd.get_dummies(pd.DataFrame({"u": user.astype(str), "d": dow.astype(str)}), drop_first=True)
    full = sm.GLM(y, sm.add_constant(dummies.astype(float)), family=sm.families.Poisson()).fit()
    assert fit.converged
    assert np.allclose(fit.expected(user, dow), full.fittedvalues, rtol=1e-6)


def test_access_too_little_history(conn: psycopg2.extensions.connection) -> None:
    with pytest.raises(InsufficientHistoryError) as info:
        access_baseline.compute(conn, USERS.start + dt.timedelta(days=10))
    assert info.value.available == 10


# ------------------------------------------------------------------------------------------ runner, publish


def test_run_indicators_publishes_every_domain_idempotently(db_url: str) -> None:
    outcomes = run_indicators(db_url, AS_OF)
    assert {o.indicator for o in outcomes} == set(INDICATORS)
    # the fixture has no roll-rate history: the portfolio forecast is skipped (tests/test_credit_portfolio.py)
    assert {o.indicator: o.status for o in outcomes}[credit_portfolio.INDICATOR] is OutcomeStatus.SKIPPED
    first = [o for o in outcomes if o.indicator != credit_portfolio.INDICATOR]
    assert [o.status for o in first] == [OutcomeStatus.PUBLISHED] * (len(INDICATORS) - 1)

    with connect(db_url) as conn, conn.cursor() as cur:
        counts = {
            o.indicator: tuple(_count(conn, t, o.indicator, AS_OF) for t in ("model_runs", "indicator_values", "alerts"))
            for o in first
        }
        for o in first:
            assert counts[o.indicator] == (1, o.values, o.alerts)
            assert o.model_run_id == f"{o.indicator}:{AS_OF}"
            # every planted anomaly alerts; VaR alerts fire on the days a stress turns (test_market_indicators.py)
            assert o.alerts >= 1 or o.indicator == market_var.INDICATOR
        cur.execute("select alert_id, value, model_run_id from warning.alerts where as_of_date = %s", (AS_OF,))
        alerts_before = sorted(cur.fetchall())
        cur.execute(
            "select model_run_id, n_obs, params, data_hash from warning.model_runs where as_of_date = %s", (AS_OF,)
        )
        runs_before = sorted(cur.fetchall())

    run_indicators(db_url, AS_OF)  # the same day again: the same rows

    with connect(db_url) as conn, conn.cursor() as cur:
        for o in first:
            assert tuple(_count(conn, t, o.indicator, AS_OF) for t in ("model_runs", "indicator_values", "alerts")) == (
                counts[o.indicator]
            )
        cur.execute("select alert_id, value, model_run_id from warning.alerts where as_of_date = %s", (AS_OF,))
        assert sorted(cur.fetchall()) == alerts_before
        cur.execute(
            "select model_run_id, n_obs, params, data_hash from warning.model_runs where as_of_date = %s", (AS_OF,)
        )
        assert sorted(cur.fetchall()) == runs_before
    ids = {row[0] for row in alerts_before}
    assert f"access_activity_baseline:{USERS.insider}:{AS_OF}" in ids
    assert f"market_stress_regime:MARKET:{AS_OF}" in ids
    assert f"macro_credit_gap:BB:{AS_OF}" in ids
    assert all(run_id == f"{run_id.split(':')[0]}:{AS_OF}" for run_id, *_ in runs_before)


def test_run_indicators_skips_too_short_history(db_url: str) -> None:
    early = dt.date(2022, 10, 3)  # before the loan and user data, a month into the market data
    outcomes = {o.indicator: o for o in run_indicators(db_url, early)}

    assert outcomes[macro_credit_gap.INDICATOR].status is OutcomeStatus.PUBLISHED
    for name in (credit_pd.INDICATOR, market_regime.INDICATOR, access_baseline.INDICATOR):
        assert outcomes[name].status is OutcomeStatus.SKIPPED
        assert outcomes[name].reason and name in outcomes[name].reason
    with connect(db_url) as conn:
        assert _count(conn, "model_runs", market_regime.INDICATOR, early) == 0


def test_run_indicators_selects_domains(db_url: str) -> None:
    outcomes = run_indicators(db_url, AS_OF, domains=["macro"])
    assert [o.indicator for o in outcomes] == [macro_credit_gap.INDICATOR, "macro_ews"]
    assert set(select_indicators(["credit", "access"])) == {
        credit_pd.INDICATOR, credit_portfolio.INDICATOR, access_baseline.INDICATOR,
    }
    with pytest.raises(ValueError, match="unknown indicator domain"):
        select_indicators(["weather"])


def test_thresholds_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EWS_CREDIT_ALERT_MEDIUM_PD", "0.3")
    monkeypatch.setenv("EWS_MARKET_SEARCH_REPS", "5")
    assert credit_pd.CreditPdConfig.from_env().alert_medium_pd == 0.3
    assert market_regime.MarketRegimeConfig.from_env().search_reps == 5
    monkeypatch.setenv("EWS_ACCESS_ALERT_HIGH_SCORE", "lots")
    with pytest.raises(ConfigError, match="EWS_ACCESS_ALERT_HIGH_SCORE"):
        access_baseline.AccessBaselineConfig.from_env()


# ------------------------------------------------------------------------------------------------ performance


@pytest.mark.slow
def test_credit_pd_scores_a_3000_loan_book(make_database: Callable[[], str]) -> None:
    """3,000 loans x 182 days generated by the server: every live loan is scored (timings: benchmarks/)."""
    url = make_database()
    with connect(url) as conn, conn.cursor() as cur:
        cur.execute(MARTS_DDL)
        cur.execute("alter table marts.fct_loan_days drop constraint fct_loan_days_pkey")
        cur.execute("alter table marts.fct_loan_days set unlogged")  # a scratch table: load it fast
        bulk_loan_days(conn, 3000, dt.date(2024, 1, 1), 182, separable=False)
    with connect(url) as conn:
        result = credit_pd.compute(conn, dt.date(2024, 6, 30))
    assert result.run.fit_stats["method"] in {m.value for m in FitMethod}
    assert all(np.isfinite(c) for c in result.run.params["scorecard"]["coefficients"].values())
    assert len(result.values) > 2500
