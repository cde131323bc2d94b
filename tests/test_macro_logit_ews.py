"""The logit EWS: fit with standardisation and a separation fallback, and real-time out-of-sample evaluation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy.special import expit

from warning_models.macro.crisis_windows import label_quarters
from warning_models.macro.logit_ews import fit_logit, leave_one_economy_out, out_of_sample
from warning_models.macro.signals import best_threshold

INDICATORS = ["credit_gap_pp", "noise"]


def synthetic_panel(n_economies: int = 10, n_quarters: int = 120, seed: int = 11) -> tuple[pd.DataFrame, list]:
    """Quarterly panel from 1990Q1 where the credit gap builds up over the 12 quarters before each crisis
    (by 2 to 4 sd; two crises per economy, eight quarters long); ``noise`` is unrelated. Returns (panel, crises)."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range("1990-03-31", periods=n_quarters, freq="QE").date
    frames, crises = [], []
    for i in range(n_economies):
        code = f"E{i:02d}"
        gap = rng.normal(0.0, 1.0, n_quarters)
        for start in (16 + 3 * i + int(rng.integers(0, 4)), 64 + 4 * i + int(rng.integers(0, 4))):
            for k in range(1, 13):  # 12..1 quarters before the start, rising
                gap[start - k] += 2.0 + 2.0 * (13 - k) / 12
            crises.append((code, dates[start], dates[min(start + 7, n_quarters - 1)]))
        frames.append(
            pd.DataFrame(
                {
                    "economy_code": code,
                    "period_end_date": dates,
                    "credit_gap_pp": gap,
                    "noise": rng.normal(0.0, 1.0, n_quarters),
                }
            )
        )
    return pd.concat(frames, ignore_index=True), crises


@pytest.fixture(scope="module")
def synthetic() -> tuple[pd.DataFrame, list]:
    return synthetic_panel()


@pytest.fixture(scope="module")
def recursive(synthetic):
    panel, crises = synthetic
    return out_of_sample(panel, crises, INDICATORS, refit_every=4, theta=0.5)


# ---------------------------------------------------------------------------------------------------------------
# fit_logit


def test_fit_logit_matches_statsmodels_on_standardised_data() -> None:
    rng = np.random.default_rng(0)
    n = 400
    x = rng.normal(2.0, 3.0, n)
    y = (rng.random(n) < expit(-1.0 + 0.8 * x)).astype(int)
    frame = pd.DataFrame({"x": x, "pre_crisis": pd.array(y, dtype="Int64"), "usable": True})
    # Unusable rows with absurd values must not enter the fit or the standardisation.
    junk = pd.DataFrame({"x": [1e6, -1e6], "pre_crisis": pd.array([pd.NA, pd.NA], dtype="Int64"), "usable": False})
    model = fit_logit(pd.concat([frame, junk], ignore_index=True), ["x"])
    assert model.method == "mle" and model.fallback_reason is None
    assert model.n_obs == n and model.n_events == int(y.sum())
    assert model.mean["x"] == pytest.approx(x.mean())
    assert model.sd["x"] == pytest.approx(x.std(ddof=1))
    z = (x - x.mean()) / x.std(ddof=1)
    ref = sm.Logit(y, sm.add_constant(z)).fit(disp=0)
    np.testing.assert_allclose(model.params.to_numpy(), ref.params, rtol=1e-6)
    assert model.pseudo_r2 == pytest.approx(ref.prsquared)
    # On the raw scale the slope is b1 / sd: close to the true 0.8.
    assert model.params["x"] / model.sd["x"] == pytest.approx(0.8, abs=0.25)
    # predict = expit(b0 + b1 (x - mean) / sd), NaN where the indicator is missing.
    new = pd.DataFrame({"x": [0.0, 5.0, np.nan]})
    b0, b1 = model.params["const"], model.params["x"]
    expected = expit(b0 + b1 * (np.array([0.0, 5.0]) - x.mean()) / x.std(ddof=1))
    got = model.predict(new)
    np.testing.assert_allclose(got[:2], expected)
    assert np.isnan(got[2])


def test_fit_logit_falls_back_to_ridge_under_separation() -> None:
    # x separates the classes perfectly: no maximum likelihood estimate exists.
    frame = pd.DataFrame(
        {"x": np.arange(10.0), "pre_crisis": pd.array([0] * 5 + [1] * 5, dtype="Int64"), "usable": True}
    )
    model = fit_logit(frame, ["x"], l2_alpha=0.05)
    assert model.method == "l2"
    assert model.fallback_reason is not None and model.l2_alpha == 0.05
    assert np.all(np.isfinite(model.params))
    p = model.predict(frame)
    assert np.all(np.diff(p) > 0)  # still ranks the quarters
    assert p[:5].max() < 0.5 < p[5:].min()
    # A bigger penalty shrinks the slope.
    assert fit_logit(frame, ["x"], l2_alpha=0.5).params["x"] < model.params["x"]


def test_fit_logit_needs_both_classes() -> None:
    frame = pd.DataFrame({"x": np.arange(6.0), "pre_crisis": pd.array([0] * 6, dtype="Int64"), "usable": True})
    with pytest.raises(ValueError):
        fit_logit(frame, ["x"])


# ---------------------------------------------------------------------------------------------------------------
# Out of sample


def test_recursive_out_of_sample_discriminates(recursive) -> None:
    s = recursive.summary
    assert s.scheme == "recursive"
    assert s.auroc > 0.8
    assert s.relative_usefulness > 0.3
    assert s.n_events > 50 and s.n_scored > 300
    pred = recursive.predictions
    scored = pred["prob"].notna()
    # A model is only ever used on or after the date it was fitted.
    assert (pd.to_datetime(pred.loc[scored, "fit_date"]) <= pd.to_datetime(pred.loc[scored, "period_end_date"])).all()
    # Refits every 4 quarters once enough pre-crisis quarters are known.
    gaps = pd.to_datetime(recursive.fits["fit_date"]).dt.to_period("Q").astype("int64").diff().dropna()
    assert (gaps == 4).all()
    assert (recursive.fits["n_events"] >= 10).all()
    # Crisis and post-crisis quarters are left out of the evaluation.
    usable = pred["usable"].to_numpy(dtype=bool)
    assert set(pred.loc[~usable, "exclusion_reason"]) >= {"in_crisis", "post_crisis"}
    assert s.n_scored == int((usable & scored.to_numpy()).sum())


def test_threshold_is_chosen_on_the_training_sample(synthetic, recursive) -> None:
    panel, crises = synthetic
    last = recursive.fits.iloc[-1]
    train = label_quarters(panel, crises, last_known_date=last["fit_date"])
    model = fit_logit(train, INDICATORS)
    rows = train["usable"].to_numpy(dtype=bool)
    expected = best_threshold(model.predict(train[rows]), train.loc[rows, "pre_crisis"], "relative_usefulness")
    assert last["threshold"] == pytest.approx(expected.threshold)
    pred = recursive.predictions
    after = pd.to_datetime(pred["period_end_date"]) >= pd.Timestamp(last["fit_date"])
    assert np.allclose(pred.loc[after, "threshold"], expected.threshold)
    assert (pred.loc[after, "signal"] == (pred.loc[after, "prob"] >= expected.threshold)).all()


def test_recursive_fit_never_uses_labels_unknown_at_the_time(synthetic, recursive) -> None:
    panel, crises = synthetic
    # Drop the latest crisis: before it starts nobody could know of it, so no earlier prediction may move.
    # (With hindsight labels its pre-crisis quarters, 12..5 quarters before, would enter fits before the start.)
    late = max(crises, key=lambda c: c[1])
    without = [c for c in crises if c is not late]
    again = out_of_sample(panel, without, INDICATORS, refit_every=4, theta=0.5)
    before = pd.to_datetime(panel["period_end_date"]) < pd.Timestamp(late[1])
    p0 = recursive.predictions.loc[before, "prob"].to_numpy()
    p1 = again.predictions.loc[before, "prob"].to_numpy()
    assert np.sum(~np.isnan(p0)) > 500
    np.testing.assert_array_equal(p0, p1)
    np.testing.assert_array_equal(
        recursive.predictions.loc[before, "threshold"].to_numpy(), again.predictions.loc[before, "threshold"].to_numpy()
    )
    # Once the crisis has started it is known and the models differ.
    after = ~before & recursive.predictions["prob"].notna()
    assert not np.allclose(recursive.predictions.loc[after, "prob"], again.predictions.loc[after, "prob"])


def test_recursive_fit_never_uses_future_indicator_values(synthetic, recursive) -> None:
    panel, crises = synthetic
    cut = pd.Timestamp("2010-12-31")
    later = pd.to_datetime(panel["period_end_date"]) > cut
    changed = panel.copy()
    changed.loc[later, "credit_gap_pp"] = changed.loc[later, "credit_gap_pp"] * 3 + 7
    again = out_of_sample(changed, crises, INDICATORS, refit_every=4, theta=0.5)
    np.testing.assert_array_equal(
        recursive.predictions.loc[~later, "prob"].to_numpy(), again.predictions.loc[~later, "prob"].to_numpy()
    )


def test_first_train_end_and_refit_frequency(synthetic) -> None:
    panel, crises = synthetic
    res = out_of_sample(panel, crises, INDICATORS, first_train_end="2000-12-31", refit_every=8)
    pred = res.predictions
    early = pd.to_datetime(pred["period_end_date"]) < pd.Timestamp("2000-10-01")
    assert pred.loc[early, "prob"].isna().all()
    assert pd.Timestamp(res.fits["fit_date"].iloc[0]) == pd.Timestamp("2000-12-31")
    gaps = pd.to_datetime(res.fits["fit_date"]).dt.to_period("Q").astype("int64").diff().dropna()
    assert (gaps == 8).all()


def test_leave_one_economy_out(synthetic) -> None:
    panel, crises = synthetic
    res = leave_one_economy_out(panel, crises, INDICATORS)
    assert res.summary.scheme == "leave_one_economy_out"
    assert len(res.fits) == 10 and res.summary.n_unscored == 0
    assert res.summary.auroc > 0.8
