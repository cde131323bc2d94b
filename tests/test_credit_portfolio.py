"""The NPL forecasts by hand: the roll-rate (Markov) matrix, its forecast, ARIMA's interval, roll-rate spikes."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from warning_models.indicators.credit_portfolio import (
    STATES,
    CreditPortfolioConfig,
    _roll_spikes,
    arima_forecast,
    markov_forecast,
    transition_matrix,
)


def _rolls(month: dt.date, flows: dict[tuple[str, str], float], segment: str = "all") -> pd.DataFrame:
    rows = []
    for (source, target), balance in flows.items():
        total = sum(b for (s, _), b in flows.items() if s == source)
        rows.append((month, segment, source, target, 20, balance, 100 * balance / total, 100 * balance / total))
    return pd.DataFrame(rows, columns=["roll_month_start_date", "segment", "from_bucket", "to_bucket", "loans_count",
                                       "from_balance_amount", "roll_rate_pct", "balance_roll_rate_pct"])


def test_transition_matrix_and_one_step_forecast_by_hand() -> None:
    month = dt.date(2025, 5, 1)
    rolls = _rolls(month, {
        ("current", "current"): 900, ("current", "1-29"): 50, ("current", "closed"): 50,
        ("1-29", "current"): 50, ("1-29", "30-59"): 50,
        ("30-59", "60-89"): 100, ("60-89", "90+"): 100, ("90+", "90+"): 100,
    })
    matrix = transition_matrix(rolls)
    assert np.allclose(matrix.sum(axis=1), 1.0)
    assert matrix[STATES.index("current"), STATES.index("1-29")] == pytest.approx(0.05)
    assert matrix[STATES.index("closed"), STATES.index("closed")] == 1.0  # absorbing
    # book: current 1000, 1-29 100, 30-59 50, 60-89 20, 90+ 30 (total 1200)
    balances = np.array([1000.0, 100.0, 50.0, 20.0, 30.0])
    # after one month: 90+ = 30 + 20 = 50; closed 50 relent as current, so the book stays 1,200
    assert markov_forecast(balances, matrix, 1)[0] == pytest.approx(100 * 50 / 1200)
    three = markov_forecast(balances, matrix, 3)
    assert three[0] < three[1] < three[2]  # arrears keep rolling into 90+


def test_arima_interval_contains_its_forecast_and_widens() -> None:
    rng = np.random.default_rng(2)
    weekly = pd.Series(1.0 + 0.05 * np.arange(26) + rng.normal(0, 0.02, 26))
    mean, lower, upper, stats = arima_forecast(weekly, [4, 9, 13])
    assert all(lo < m < hi for m, lo, hi in zip(mean, lower, upper))
    assert np.all(np.diff(np.array(upper) - np.array(lower)) > 0)
    assert mean[-1] > weekly.iloc[-1]  # the drift carries on
    assert np.isfinite(stats["aic"])


def test_a_roll_rate_spike_is_flagged_against_earlier_months_only() -> None:
    months = [dt.date(2025, m, 1) for m in (2, 3, 4, 5)]
    calm = {("1-29", "current"): 70, ("1-29", "30-59"): 30}
    frames = [_rolls(m, calm) for m in months[:3]]
    frames.append(_rolls(months[3], {("1-29", "current"): 20, ("1-29", "30-59"): 80}))
    rolls = pd.concat(frames, ignore_index=True)
    spikes = _roll_spikes(rolls, months[3], CreditPortfolioConfig())
    assert [(s[0], s[1], s[2]) for s in spikes] == [("all", "1-29", "30-59")]
    assert spikes[0][3] == pytest.approx(80.0) and spikes[0][4] == pytest.approx(30.0)
    assert _roll_spikes(rolls, months[2], CreditPortfolioConfig()) == []
