"""The HP filter by banded solve: the exact solution, statsmodels' hpfilter, and the one-sided (real-time) gap."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from statsmodels.tsa.filters.hp_filter import hpfilter

from warning_models.macro.hp_filter import hp_trend, one_sided_gap, one_sided_hp_trend


def exact_hp_trend(y: np.ndarray, lamb: int) -> list[float]:
    """(I + lamb D'D) x = y solved in exact rational arithmetic (banded Gaussian elimination)."""
    n = len(y)
    a = [[Fraction(int(i == j)) for j in range(n)] for i in range(n)]
    for r in range(n - 2):
        row = {r: 1, r + 1: -2, r + 2: 1}
        for i, u in row.items():
            for j, v in row.items():
                a[i][j] += lamb * u * v
    b = [Fraction(float(v)) for v in y]
    for c in range(n):
        for r in range(c + 1, min(n, c + 3)):
            f = a[r][c] / a[c][c]
            for k in range(c, min(n, c + 3)):
                a[r][k] -= f * a[c][k]
            b[r] -= f * b[c]
    x = [Fraction(0)] * n
    for r in reversed(range(n)):
        x[r] = (b[r] - sum(a[r][k] * x[k] for k in range(r + 1, min(n, r + 3)))) / a[r][r]
    return [float(v) for v in x]


@pytest.fixture(scope="module")
def ratio() -> np.ndarray:
    rng = np.random.default_rng(7)
    return 100 + np.cumsum(rng.normal(0.3, 1.0, 60))


@pytest.mark.parametrize("n", [3, 4, 5, 12, 30])
def test_hp_trend_is_the_exact_solution(ratio: np.ndarray, n: int) -> None:
    exact = np.array(exact_hp_trend(ratio[:n], 400_000))
    np.testing.assert_allclose(hp_trend(ratio[:n], 400_000), exact, rtol=0, atol=1e-7)
    np.testing.assert_allclose(hp_trend(ratio[:n], 1600), exact_hp_trend(ratio[:n], 1600), rtol=0, atol=1e-9)


def test_hp_trend_matches_statsmodels(ratio: np.ndarray) -> None:
    for lamb in (1600, 400_000):
        _, trend = hpfilter(ratio, lamb=lamb)
        np.testing.assert_allclose(hp_trend(ratio, lamb), np.asarray(trend), rtol=0, atol=1e-7)


def test_one_sided_trend_is_the_last_point_of_the_two_sided_filter_on_the_expanding_sample(ratio: np.ndarray) -> None:
    trend = one_sided_hp_trend(ratio, 400_000, min_obs=12)
    assert np.all(np.isnan(trend[:11]))
    for t in range(11, len(ratio)):
        _, two_sided = hpfilter(ratio[: t + 1], lamb=400_000)
        assert trend[t] == pytest.approx(float(np.asarray(two_sided)[-1]), abs=1e-7)


def test_one_sided_gap_never_changes_when_later_quarters_arrive(ratio: np.ndarray) -> None:
    early = one_sided_gap(ratio[:40])
    revised_future = ratio.copy()
    revised_future[40:] += 25.0  # a boom after quarter 40
    late = one_sided_gap(revised_future)
    np.testing.assert_array_equal(late[:40], early)
    # the two-sided filter does see the future: its past gaps move
    cycle_before, _ = hpfilter(ratio, lamb=400_000)
    cycle_after, _ = hpfilter(revised_future, lamb=400_000)
    assert np.max(np.abs(np.asarray(cycle_after)[:40] - np.asarray(cycle_before)[:40])) > 1.0
