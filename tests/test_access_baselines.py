"""The user-hour GLM fitted on its design's distinct rows equals statsmodels' GLM over every cell."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import statsmodels.api as sm

from warning_models.access.baselines import HOURS, fit_grouped_count_glm, hour_dow_design


def _cells(rng: np.random.Generator, overdispersed: bool) -> tuple[np.ndarray, ...]:
    """Cells of 40 users x 7 weekdays x 24 hours with a user level, hour and weekday effects; gamma-mixed counts
    (NB2) when overdispersed; frequency weights of 1 to 3 (the days a cell stands for)."""
    users, groups = np.meshgrid(np.arange(40), np.arange(7 * HOURS), indexing="ij")
    users, groups = users.ravel(), groups.ravel()
    level = rng.normal(-1.0, 0.5, 40)
    truth = rng.normal(0.0, 0.6, 30)
    offset = level[users]
    mean = np.exp(offset + (hour_dow_design() @ truth)[groups])
    if overdispersed:
        mean = mean * rng.gamma(0.7, 1 / 0.7, mean.size)
    y = rng.poisson(mean).astype(np.float64)
    weights = rng.integers(1, 4, y.size).astype(np.float64)
    return y, offset, weights, groups


@pytest.mark.parametrize("overdispersed", [False, True])
def test_the_grouped_fit_is_the_glm_over_every_cell(overdispersed: bool) -> None:
    y, offset, weights, groups = _cells(np.random.default_rng(7), overdispersed)
    fit = fit_grouped_count_glm(y, offset, weights, groups, hour_dow_design())
    assert fit.overdispersion.is_overdispersed is overdispersed
    family = (
        sm.families.NegativeBinomial(alpha=fit.overdispersion.alpha) if overdispersed else sm.families.Poisson()
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        full = sm.GLM(
            y, hour_dow_design()[groups], family=family, offset=offset, freq_weights=weights
        ).fit(tol=1e-12)  # converged as tightly as the grouped fit
    assert fit.converged and full.converged
    np.testing.assert_allclose(fit.params, full.params, rtol=0, atol=1e-6)
    np.testing.assert_allclose(fit.mu, full.fittedvalues, rtol=1e-6)
