"""VaR backtests (warning_models.market.backtest): Kupiec, Christoffersen, traffic light, summary."""

from __future__ import annotations

from math import log

import numpy as np
import pytest
from scipy.stats import chi2

from warning_models.market.backtest import (
    TestResult,
    backtest_summary,
    christoffersen_conditional_coverage,
    christoffersen_independence,
    exceptions,
    kupiec_pof,
    longest_run,
    max_exceptions_in_any,
    traffic_light,
    transition_counts,
)
from warning_models.market.var import rolling_forecasts

# --- exceptions ---------------------------------------------------------------------------------------------


def test_exceptions_are_strict_losses_beyond_var_and_skip_nans() -> None:
    realised = [-0.03, -0.02, -0.0201, 0.05, np.nan, -0.5, -0.01]
    var = [0.02, 0.02, 0.02, 0.02, 0.02, np.nan, 0.005]
    np.testing.assert_array_equal(exceptions(realised, var), [True, False, True, False, False, False, True])
    assert exceptions(realised, var).dtype == bool


def test_exceptions_reject_mismatched_or_empty_input() -> None:
    with pytest.raises(ValueError):
        exceptions([0.01, 0.02], [0.01])
    with pytest.raises(ValueError, match="empty"):
        exceptions([], [])


# --- Kupiec -------------------------------------------------------------------------------------------------


def test_kupiec_ten_exceptions_in_250_days_at_99() -> None:
    by_formula = 2 * ((240 * log(0.96) + 10 * log(0.04)) - (240 * log(0.99) + 10 * log(0.01)))
    res = kupiec_pof(10, 250, 0.99)
    assert res.statistic == pytest.approx(by_formula, rel=1e-12)
    assert res.statistic == pytest.approx(12.955491062356018, rel=1e-12)
    assert res.p_value == pytest.approx(0.0003189845082133835, rel=1e-9)
    assert res.p_value == pytest.approx(chi2.sf(by_formula, 1), rel=1e-12)
    assert res.df == 1


def test_kupiec_zero_exceptions() -> None:
    res = kupiec_pof(0, 250, 0.99)  # LR = -2 * 250 * ln(0.99); the 0 * ln 0 terms vanish
    assert res.statistic == pytest.approx(-2 * 250 * log(0.99), rel=1e-12)
    assert res.statistic == pytest.approx(5.025167926750726, rel=1e-12)
    assert res.p_value == pytest.approx(0.02498150305344973, rel=1e-9)


def test_kupiec_all_exceptions_and_exact_coverage() -> None:
    assert kupiec_pof(5, 5, 0.99).statistic == pytest.approx(-2 * 5 * log(0.01), rel=1e-12)  # 46.0517
    assert kupiec_pof(5, 5, 0.99).statistic == pytest.approx(46.05170185988091, rel=1e-12)
    exact = kupiec_pof(5, 500, 0.99)  # x / T = p: no evidence against the model
    assert exact.statistic == pytest.approx(0.0, abs=1e-9) and exact.p_value == pytest.approx(1.0)
    assert kupiec_pof(3, 250, 0.99).statistic == pytest.approx(0.09494012266443264, rel=1e-9)


@pytest.mark.parametrize(("x", "t", "level"), [(-1, 250, 0.99), (251, 250, 0.99), (1, 0, 0.99), (1, 250, 1.0)])
def test_kupiec_rejects_bad_arguments(x: int, t: int, level: float) -> None:
    with pytest.raises(ValueError):
        kupiec_pof(x, t, level)


# --- Christoffersen -----------------------------------------------------------------------------------------


def test_independence_when_transition_probabilities_coincide() -> None:
    seq = [0, 0, 1, 1, 0, 0, 0, 1, 0, 0]
    # pairs: 00 01 11 10 00 00 01 10 00 -> n00 = 4, n01 = 2, n10 = 2, n11 = 1
    # pi0 = 2/6, pi1 = 1/3, pi = 3/9: all equal, so the two likelihoods coincide and LR_ind = 0
    assert transition_counts(seq) == (4, 2, 2, 1)
    res = christoffersen_independence(seq)
    assert res.statistic == pytest.approx(0.0, abs=1e-12) and res.p_value == pytest.approx(1.0) and res.df == 1


def test_independence_on_a_clustered_sequence() -> None:
    seq = [0, 0, 0, 1, 1, 1, 0, 0, 0, 0]
    # pairs: 00 00 01 11 11 10 00 00 00 -> n00 = 5, n01 = 1, n10 = 1, n11 = 2
    # pi0 = 1/6, pi1 = 2/3, pi = 3/9
    # LR = 2 [5 ln(5/6) + ln(1/6) + ln(1/3) + 2 ln(2/3)] - 2 [6 ln(2/3) + 3 ln(1/3)] = 2.231435513...
    assert transition_counts(seq) == (5, 1, 1, 2)
    unrestricted = 5 * log(5 / 6) + log(1 / 6) + log(1 / 3) + 2 * log(2 / 3)
    by_formula = 2 * unrestricted - 2 * (6 * log(2 / 3) + 3 * log(1 / 3))
    res = christoffersen_independence(np.array(seq, dtype=bool))
    assert res.statistic == pytest.approx(by_formula, rel=1e-12)
    assert res.statistic == pytest.approx(2.231435513142097, rel=1e-12)
    assert res.p_value == pytest.approx(0.13522815768706561, rel=1e-9)


def test_independence_with_empty_cells() -> None:
    # a single exception mid-series: n00 = 1, n01 = 1, n10 = 1, n11 = 0; pi0 = 1/2, pi1 = 0, pi = 1/3
    # LR = 2 [ln(1/2) + ln(1/2) + 1 * ln 1 + 0] - 2 [2 ln(2/3) + ln(1/3)] = ln(729 / 256) = 1.0464962875...
    assert christoffersen_independence([0, 1, 0, 0]).statistic == pytest.approx(1.0464962875290957, rel=1e-12)
    # no exception / exception only on the last day (no 1 -> anything row) / only exceptions: 0
    for seq in ([0] * 20, [0, 0, 0, 1], [1] * 7, [1, 0, 0, 0]):
        res = christoffersen_independence(seq)
        assert res.statistic == pytest.approx(0.0, abs=1e-12), seq
        assert res.p_value == pytest.approx(1.0), seq


def test_independence_rejects_bad_sequences() -> None:
    with pytest.raises(ValueError, match="2 observations"):
        christoffersen_independence([1])
    with pytest.raises(ValueError):
        christoffersen_independence([])
    with pytest.raises(ValueError, match="0/1"):
        christoffersen_independence([0, 2, 1])


def test_conditional_coverage_is_pof_plus_independence() -> None:
    seq = [0, 0, 0, 1, 1, 1, 0, 0, 0, 0]
    # pof on all T = 10 days, x = 3, p = 0.01: -2 [7 ln .99 + 3 ln .01] + 2 [7 ln .7 + 3 ln .3] = 15.5544...
    pof = -2 * (7 * log(0.99) + 3 * log(0.01)) + 2 * (7 * log(0.7) + 3 * log(0.3))
    assert pof == pytest.approx(15.554439776779695, rel=1e-12)
    res = christoffersen_conditional_coverage(seq, 0.99)
    parts = kupiec_pof(3, 10, 0.99).statistic + christoffersen_independence(seq).statistic
    assert res.statistic == pytest.approx(parts, rel=1e-12)
    assert res.statistic == pytest.approx(17.78587528992179, rel=1e-12)
    assert res.p_value == pytest.approx(0.0001373555628511172, rel=1e-9)
    assert res.df == 2


# --- traffic light ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("x", "zone", "plus"),
    [
        (0, "green", 0.0),
        (1, "green", 0.0),
        (2, "green", 0.0),
        (3, "green", 0.0),
        (4, "green", 0.0),
        (5, "yellow", 0.40),
        (6, "yellow", 0.50),
        (7, "yellow", 0.65),
        (8, "yellow", 0.75),
        (9, "yellow", 0.85),
        (10, "red", 1.00),
        (11, "red", 1.00),
        (12, "red", 1.00),
    ],
)
def test_traffic_light_basel_zones(x: int, zone: str, plus: float) -> None:
    light = traffic_light(x)
    assert (light.zone, light.exceptions, light.plus_factor) == (zone, x, plus)


def test_traffic_light_cumulative_probabilities() -> None:
    # binomial(250, 0.01) CDF, checked against exact rational arithmetic
    assert traffic_light(0).cumulative_probability == pytest.approx(0.08105851616218143, rel=1e-9)
    assert traffic_light(4).cumulative_probability == pytest.approx(0.8921876269036251, rel=1e-9)
    assert traffic_light(5).cumulative_probability == pytest.approx(0.9588168159301517, rel=1e-9)
    assert traffic_light(9).cumulative_probability == pytest.approx(0.9997498099312595, rel=1e-9)
    assert traffic_light(10).cumulative_probability == pytest.approx(0.999946101370953, rel=1e-9)


def test_traffic_light_plus_factor_only_for_250_days_at_99() -> None:
    assert traffic_light(3, n_obs=500, level=0.99).plus_factor is None
    assert traffic_light(3, n_obs=250, level=0.975).plus_factor is None
    assert traffic_light(0, n_obs=500, level=0.99).zone == "green"
    assert traffic_light(20, n_obs=500, level=0.99).zone == "red"
    with pytest.raises(ValueError):
        traffic_light(251)


# --- clusters -----------------------------------------------------------------------------------------------


def test_cluster_helpers() -> None:
    seq = [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 1, 1, 1, 0, 0, 0]
    assert max_exceptions_in_any(seq, 10) == 5  # days 11..20 hold 5
    assert max_exceptions_in_any(seq, 3) == 3  # days 14..16
    assert max_exceptions_in_any(seq, 1) == 1
    assert max_exceptions_in_any([1, 0, 1], 10) == 2  # shorter than the window: all of it
    assert longest_run(seq) == 3
    assert longest_run([0, 0]) == 0 and longest_run([1, 1]) == 2
    with pytest.raises(ValueError):
        max_exceptions_in_any(seq, 0)


# --- summary ------------------------------------------------------------------------------------------------


def test_backtest_summary_uses_the_last_window_days_with_a_forecast() -> None:
    n = 300
    realised = np.full(n, 0.001)
    var = np.full(n, 0.02)
    var[:40] = np.nan  # no forecast yet
    var[100] = np.nan  # a missing forecast mid-series is skipped
    realised[[45, 48]] = -0.05  # before the window's first day: not counted
    loss_days = [120, 200, 290, 293, 294, 295, 299]
    realised[loss_days] = -0.03
    realised[150] = -0.02  # equals -VaR: not an exception
    s = backtest_summary(realised, var, 0.99, window=250)
    # 259 usable days (40..299 without 100); the last 250 start at day 49 (40..48 dropped)
    assert (s.start, s.end, s.n_obs) == (49, 300, 250)
    assert s.exceptions == 7 and s.expected_exceptions == pytest.approx(2.5)
    assert s.kupiec == kupiec_pof(7, 250, 0.99)
    flags = exceptions(realised, var)[[d for d in range(49, 300) if d != 100]]
    assert s.independence == christoffersen_independence(flags)
    assert s.conditional_coverage.statistic == pytest.approx(s.kupiec.statistic + s.independence.statistic)
    assert s.traffic_light.zone == "yellow" and s.traffic_light.plus_factor == 0.65
    assert s.exceptions_last_10_days == 5  # 290, 293, 294, 295, 299
    assert s.max_exceptions_in_10_days == 5
    assert s.longest_run == 3
    with pytest.raises(ValueError, match="longer than the data"):
        backtest_summary(realised, var, 0.99, window=260)


def test_backtest_summary_on_rolling_forecasts() -> None:
    r = np.random.default_rng(42).normal(0, 0.01, 700)
    var, _ = rolling_forecasts(r, "parametric", 0.99)
    s = backtest_summary(r, var, 0.99)
    assert (s.start, s.end, s.n_obs) == (450, 700, 250)
    assert s.exceptions == int(np.sum(r[450:] < -var[450:]))
    assert isinstance(s.kupiec, TestResult)
    assert s.traffic_light.exceptions == s.exceptions
