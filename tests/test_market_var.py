"""EWMA volatility and one-day VaR / ES (warning_models.market.volatility, .var) on hand-computed examples."""

from __future__ import annotations

import math

import numpy as np
import pytest

from warning_models.market.var import VarEstimate, VarMethod, rolling_forecasts, tail_count, var_es
from warning_models.market.volatility import ewma_forecast_sigma, ewma_variance

Z99 = 2.326348  # Phi^{-1}(0.99), to 6 decimals
ES_FACTOR_99 = 2.665214  # phi(Z99) / 0.01


# --- EWMA -------------------------------------------------------------------------------------------------


def test_ewma_variance_by_hand_on_three_returns() -> None:
    # r = 0.01, -0.02, 0.03; lam = 0.9; seed = mean of the first 2 squares = (1e-4 + 4e-4) / 2 = 2.5e-4
    # s2_0 = 0.9 * 2.5e-4   + 0.1 * 1e-4 = 2.35e-4
    # s2_1 = 0.9 * 2.35e-4  + 0.1 * 4e-4 = 2.515e-4
    # s2_2 = 0.9 * 2.515e-4 + 0.1 * 9e-4 = 3.1635e-4
    r = np.array([0.01, -0.02, 0.03])
    np.testing.assert_allclose(ewma_variance(r, lam=0.9, seed_returns=2), [2.35e-4, 2.515e-4, 3.1635e-4], rtol=1e-12)
    sigma = ewma_forecast_sigma(r, lam=0.9, seed_returns=2)
    assert sigma.shape == (4,)  # forecasts for days 0, 1, 2 and the day after
    np.testing.assert_allclose(sigma**2, [2.5e-4, 2.35e-4, 2.515e-4, 3.1635e-4], rtol=1e-12)


def test_ewma_seed_uses_only_the_available_returns_when_the_series_is_short() -> None:
    r = np.array([0.02, 0.0])  # seed_returns = 30 > 2: seed = (4e-4 + 0) / 2 = 2e-4
    np.testing.assert_allclose(ewma_forecast_sigma(r)[0] ** 2, 2e-4, rtol=1e-12)
    np.testing.assert_allclose(ewma_variance(r), [0.94 * 2e-4 + 0.06 * 4e-4, 0.94 * (0.94 * 2e-4 + 0.06 * 4e-4)])


def test_ewma_variance_matches_the_recursion_loop() -> None:
    r = np.random.default_rng(7).normal(0, 0.01, 400)
    expected = np.empty(r.size)
    previous = float(np.mean(r[:30] ** 2))
    for t, x in enumerate(r):
        previous = 0.94 * previous + (1 - 0.94) * x * x
        expected[t] = previous
    np.testing.assert_allclose(ewma_variance(r), expected, rtol=1e-12)


@pytest.mark.parametrize("kwargs", [{"lam": 1.0}, {"lam": 0.0}, {"seed_returns": 0}])
def test_ewma_rejects_bad_arguments(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        ewma_variance([0.01, 0.02], **kwargs)


# --- historical ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "level", "k"),
    [(100, 0.99, 1), (250, 0.99, 3), (250, 0.975, 7), (500, 0.99, 5), (100, 0.975, 3), (100, 0.95, 5), (10, 0.999, 1)],
)
def test_tail_count_is_ceil_of_n_times_tail_probability(n: int, level: float, k: int) -> None:
    assert tail_count(n, level) == k


def test_historical_var_es_on_known_order_statistics() -> None:
    # window of 100 returns -0.001 * i, i = 1..100 (shuffled); older returns must be ignored
    rng = np.random.default_rng(1)
    recent = -0.001 * rng.permutation(np.arange(1, 101))
    r = np.concatenate([[-0.5, -0.4, 0.3], recent])
    # 99 %: k = ceil(100 * 0.01) = 1 -> the worst return
    est = var_es(r, "historical", 0.99, window=100)
    assert est == VarEstimate(pytest.approx(0.100), pytest.approx(0.100), VarMethod.HISTORICAL, 0.99, 100)
    # 97.5 %: k = ceil(2.5) = 3 -> VaR = 0.098, ES = mean(0.100, 0.099, 0.098) = 0.099
    est = var_es(r, VarMethod.HISTORICAL, 0.975, window=100)
    assert est.var == pytest.approx(0.098, abs=1e-15) and est.es == pytest.approx(0.099, abs=1e-15)
    # 95 %: k = 5 -> VaR = 0.096, ES = mean(0.100 .. 0.096) = 0.098
    est = var_es(r, VarMethod.HISTORICAL, 0.95, window=100)
    assert est.var == pytest.approx(0.096, abs=1e-15) and est.es == pytest.approx(0.098, abs=1e-15)


def test_historical_250_days_at_99_is_the_third_worst_return() -> None:
    r = np.full(250, 0.001)
    r[[10, 50, 100, 200]] = [-0.02, -0.05, -0.03, -0.04]
    est = var_es(r, "historical", 0.99)  # default window 250, k = 3
    assert est.var == pytest.approx(0.03) and est.es == pytest.approx((0.05 + 0.04 + 0.03) / 3)
    assert est.n_obs == 250


def test_historical_var_equals_the_inverted_cdf_quantile() -> None:
    r = np.random.default_rng(3).standard_t(3, 600) * 0.01
    for level in (0.99, 0.975, 0.95):
        q = np.quantile(r[-250:], 1 - level, method="inverted_cdf")
        tail = r[-250:][r[-250:] <= q]  # no ties in continuous data: exactly k values
        est = var_es(r, "historical", level)
        assert est.var == pytest.approx(-q, rel=1e-12)
        assert est.es == pytest.approx(-tail.mean(), rel=1e-12)
        assert est.es >= est.var


# --- parametric --------------------------------------------------------------------------------------------


def test_parametric_var_es_with_known_sigma() -> None:
    s = 0.012
    r = np.tile([s, -s], 150)  # every |r| = s: seed and every EWMA variance equal s**2
    est = var_es(r, "parametric", 0.99)
    assert est.var == pytest.approx(Z99 * s, rel=1e-6)
    assert est.es == pytest.approx(ES_FACTOR_99 * s, rel=1e-6)
    assert est.n_obs == 300 and est.method is VarMethod.PARAMETRIC
    assert var_es(r, "parametric", 0.975).var == pytest.approx(1.959964 * s, rel=1e-6)


def test_parametric_with_estimated_mean_subtracts_it() -> None:
    s = 0.01
    r = np.full(300, s)  # sigma = s and mean = s: VaR = (2.326348 - 1) s, ES = (2.665214 - 1) s
    est = var_es(r, "parametric", 0.99, mean_zero=False)
    assert est.var == pytest.approx((Z99 - 1) * s, rel=1e-6)
    assert est.es == pytest.approx((ES_FACTOR_99 - 1) * s, rel=1e-6)
    assert var_es(r, "parametric", 0.99).var == pytest.approx(Z99 * s, rel=1e-6)  # mean_zero default


def test_parametric_with_mean_zero_does_not_need_a_full_window() -> None:
    assert var_es([0.01, -0.01], "parametric", 0.99).var == pytest.approx(Z99 * 0.01, rel=1e-6)
    with pytest.raises(ValueError, match="longer than the data"):
        var_es([0.01, -0.01], "parametric", 0.99, mean_zero=False)


# --- filtered historical -----------------------------------------------------------------------------------


def test_fhs_by_hand() -> None:
    # lam = 0.5, seed from the first 4 returns: s2 = 1e-4, unchanged by the four +-0.01 returns.
    # after -0.02: s2 = 0.5e-4 + 0.5 * 4e-4 = 2.5e-4; after 0.04: s2 = 1.25e-4 + 8e-4 = 9.25e-4
    # z = r / sigma(day before) = [1, -1, 1, -1, -2, 0.04 / 0.0158114 = 2.5298]
    # 75 % over 6: k = ceil(1.5) = 2 -> z_(2) = -1, tail mean -1.5; sigma ahead = sqrt(9.25e-4) = 0.0304138
    r = np.array([0.01, -0.01, 0.01, -0.01, -0.02, 0.04])
    est = var_es(r, "filtered_historical", 0.75, window=6, lam=0.5, seed_returns=4)
    assert est.var == pytest.approx(0.0304138126514911, rel=1e-12)
    assert est.es == pytest.approx(0.04562071897723665, rel=1e-12)
    # the plain historical figures from the same days are lower: the volatility has risen
    hist = var_es(r, "historical", 0.75, window=6)
    assert (hist.var, hist.es) == (pytest.approx(0.01), pytest.approx(0.015))


def test_fhs_with_constant_sigma_equals_historical() -> None:
    s = 0.01
    rng = np.random.default_rng(5)
    r = s * rng.choice([-1.0, 1.0], 400)  # |r| = s: every EWMA sigma is s, z = r / s
    r[-250:][:3] = -s  # at least k = 3 losses in the window
    fhs = var_es(r, "filtered_historical", 0.99)
    hist = var_es(r, "historical", 0.99)
    assert fhs.var == pytest.approx(hist.var, rel=1e-12) and fhs.es == pytest.approx(hist.es, rel=1e-12)


def test_fhs_is_historical_of_standardised_residuals_scaled_by_the_forecast() -> None:
    r = np.random.default_rng(11).standard_t(4, 500) * 0.01
    sigma = ewma_forecast_sigma(r)
    z = r / sigma[:-1]
    hz = var_es(z, "historical", 0.99)
    fhs = var_es(r, "filtered_historical", 0.99)
    assert fhs.var == pytest.approx(sigma[-1] * hz.var, rel=1e-12)
    assert fhs.es == pytest.approx(sigma[-1] * hz.es, rel=1e-12)
    # scale equivariance: doubling every return doubles VaR and ES
    assert var_es(2 * r, "filtered_historical", 0.99).var == pytest.approx(2 * fhs.var, rel=1e-12)


# --- rolling ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", list(VarMethod))
@pytest.mark.parametrize("level", [0.99, 0.975])
def test_rolling_equals_var_es_in_a_loop(method: VarMethod, level: float) -> None:
    r = np.random.default_rng(21).standard_t(4, 260) * 0.01
    r[150:170] *= 3  # a volatile spell
    var, es = rolling_forecasts(r, method, level, window=60, lam=0.9, seed_returns=20)
    assert var.shape == es.shape == r.shape
    assert np.all(np.isnan(var[:60])) and np.all(np.isnan(es[:60]))
    for t in range(60, r.size):
        est = var_es(r[:t], method, level, window=60, lam=0.9, seed_returns=20)
        assert var[t] == pytest.approx(est.var, rel=1e-12, abs=1e-15), t
        assert es[t] == pytest.approx(est.es, rel=1e-12, abs=1e-15), t


def test_rolling_with_first_and_estimated_mean_equals_the_loop() -> None:
    r = np.random.default_rng(22).normal(0.001, 0.01, 200)
    var, es = rolling_forecasts(r, "parametric", 0.99, window=50, first=120, mean_zero=False)
    assert np.all(np.isnan(var[:120]))
    for t in range(120, 200):
        est = var_es(r[:t], "parametric", 0.99, window=50, mean_zero=False)
        assert (var[t], es[t]) == (pytest.approx(est.var, rel=1e-12), pytest.approx(est.es, rel=1e-12))


def test_rolling_forecast_ignores_the_day_it_forecasts() -> None:
    r = np.random.default_rng(23).normal(0, 0.01, 300)
    shocked = r.copy()
    shocked[280] = -0.5
    for method in VarMethod:
        a, _ = rolling_forecasts(r, method, 0.99)
        b, _ = rolling_forecasts(shocked, method, 0.99)
        np.testing.assert_array_equal(a[:281], b[:281])  # the day-280 forecast predates the shock
        assert b[281] > a[281]


# --- bad arguments ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        (([], "historical", 0.99), {}, "empty"),
        (([0.01, np.nan], "historical", 0.5), {"window": 2}, "NaN"),
        (([0.01] * 10, "historical", 1.0), {"window": 5}, "level"),
        (([0.01] * 10, "historical", 0.0), {"window": 5}, "level"),
        (([0.01] * 10, "historical", 99), {"window": 5}, "level"),
        (([0.01] * 10, "historical", 0.99), {}, "longer than the data"),
        (([0.01] * 10, "filtered_historical", 0.99), {"window": 11}, "longer than the data"),
        (([0.01] * 10, "historical", 0.99), {"window": 0}, "window"),
        (([0.01] * 10, "monte_carlo", 0.99), {"window": 5}, "unknown VaR method"),
        (([0.0] * 10, "filtered_historical", 0.9), {"window": 5}, "zero"),
    ],
)
def test_var_es_rejects_bad_arguments(args: tuple, kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        var_es(*args, **kwargs)


def test_rolling_rejects_bad_first() -> None:
    r = np.random.default_rng(0).normal(0, 0.01, 100)
    with pytest.raises(ValueError, match="window"):
        rolling_forecasts(r, "historical", 0.99, window=50, first=40)
    with pytest.raises(ValueError, match="seed_returns"):
        rolling_forecasts(r, "parametric", 0.99, window=10, seed_returns=30, first=20)
    with pytest.raises(ValueError, match="no day to forecast"):
        rolling_forecasts(r, "historical", 0.99, window=100)
    with pytest.raises(ValueError, match="longer than the data"):
        rolling_forecasts(r, "historical", 0.99)


def test_estimate_is_frozen() -> None:
    est = var_es(np.linspace(-0.01, 0.01, 50), "historical", 0.9, window=50)
    with pytest.raises(AttributeError):
        est.var = 0.0  # type: ignore[misc]
    assert math.isfinite(est.var)
