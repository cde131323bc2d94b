"""The scorecard's building blocks against hand-computed cases: WoE bins, validation metrics, PSI, points,
IFRS 9 staging. No database."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from warning_models.credit.scorecard import Scorecard, fit_scorecard
from warning_models.credit.staging import StagingRules, bucket_of, stage_loans
from warning_models.credit.validation import (
    PsiStatus,
    auc,
    brier,
    calibration,
    ks_statistic,
    psi,
    psi_status,
)
from warning_models.credit.woe import fit_bins, fit_categories


def test_auc_ks_brier_by_hand() -> None:
    y = np.array([0, 0, 1, 1, 0, 1], dtype=bool)
    score = np.array([0.1, 0.4, 0.35, 0.8, 0.2, 0.9])
    # pairs (pos, neg): 0.35 beats 0.1, 0.2 (2 of 3); 0.8 and 0.9 beat all 3 -> 8 of 9
    assert auc(y, score) == pytest.approx(8 / 9)
    # thresholds: at 0.35 events below-or-equal 1/3, non-events 2/3 -> 1/3; at 0.4: 1/3 vs 3/3 -> 2/3
    assert ks_statistic(y, score) == pytest.approx(2 / 3)
    assert brier(y, score) == pytest.approx(np.mean((score - y) ** 2))
    assert auc(np.zeros(3, dtype=bool), np.arange(3)) is None


def test_psi_by_hand_and_its_bands() -> None:
    expected, actual = np.array([50, 30, 20]), np.array([30, 30, 40])
    by_hand = (0.3 - 0.5) * math.log(0.3 / 0.5) + 0 + (0.4 - 0.2) * math.log(0.4 / 0.2)
    assert psi(expected, actual) == pytest.approx(by_hand)
    assert psi(expected, expected) == 0.0
    assert [psi_status(v) for v in (0.05, 0.1, 0.25, 0.26)] == [
        PsiStatus.STABLE, PsiStatus.WATCH, PsiStatus.WATCH, PsiStatus.SHIFTED,
    ]


def test_hosmer_lemeshow_by_hand() -> None:
    rng = np.random.default_rng(3)
    p = rng.uniform(0.01, 0.6, 500)
    y = rng.random(500) < p
    result = calibration(y, p, bins=5)
    groups = np.array_split(np.argsort(p, kind="stable"), 5)
    statistic = sum(
        (y[g].sum() - p[g].sum()) ** 2 / (p[g].sum() * (1 - p[g].mean())) for g in groups
    )
    assert result.hl_statistic == pytest.approx(statistic, rel=1e-6)
    assert result.hl_df == 3 and [b.n for b in result.bands] == [100] * 5
    assert result.hl_pvalue is not None and result.hl_pvalue > 0.01  # a calibrated model
    miscalibrated = calibration(y, np.clip(p * 0.3, 0, 1), bins=5)
    assert miscalibrated.hl_pvalue is not None and miscalibrated.hl_pvalue < 1e-6


def test_woe_bins_are_monotone_with_the_scorecard_sign_convention() -> None:
    rng = np.random.default_rng(0)
    dpd = np.where(rng.random(20_000) < 0.9, 0, rng.integers(1, 120, 20_000)).astype(float)
    y = rng.random(20_000) < np.where(dpd > 30, 0.7, 0.02)
    bins = fit_bins("dpd", dpd, y)
    rates = np.array(bins.events) / np.array(bins.counts)
    assert np.all(np.diff(rates) >= 0), rates  # riskier with more days past due
    assert np.all(np.diff(bins.woe) <= 0)  # WoE = ln(%good / %bad): riskier bins are negative
    assert bins.woe[0] > 0 > bins.woe[-1]
    assert bins.information_value > 0.5 and bins.labels()[0] == "<= 30"  # the planted risk edge
    noise = fit_bins("noise", rng.normal(size=20_000), y)
    assert noise.information_value < 0.02
    # one bin's WoE by hand (0.5 smoothing)
    c, e = np.array(bins.counts, float), np.array(bins.events, float)
    good, bad = c - e + 0.5, e + 0.5
    assert bins.woe[0] == pytest.approx(math.log((good[0] / good.sum()) / (bad[0] / bad.sum())))
    assert bins.transform(np.array([np.nan]))[0] == 0.0  # unseen missing: neutral


def test_categories_get_their_own_woe() -> None:
    x = np.array(["a"] * 100 + ["b"] * 100)
    y = np.r_[np.zeros(90), np.ones(10), np.zeros(50), np.ones(50)].astype(bool)
    bins = fit_categories("product", x, y)
    assert bins.transform(np.array(["a", "b", "zzz"])).tolist() == pytest.approx([*bins.woe, 0.0])
    assert bins.woe[0] > 0 > bins.woe[1]


def _scorecard() -> tuple[Scorecard, pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(5)
    n = 20_000
    frame = pd.DataFrame({"x": rng.normal(size=n), "noise": rng.normal(size=n), "cat": rng.choice(["a", "b"], n)})
    y = rng.random(n) < 1 / (1 + np.exp(-(1.5 * frame["x"] - 3 + (frame["cat"] == "b"))))
    return fit_scorecard(frame, y, ["x", "noise"], ["cat"]), frame, y.to_numpy()


def test_scorecard_keeps_informative_features_and_its_points_scale() -> None:
    card, frame, y = _scorecard()
    assert card.features == ["x", "cat"] and "noise" in card.fit_stats["dropped_low_iv"]
    assert all(card.coefficients[f] < 0 for f in card.features)  # WoE sign convention
    pd_ = card.predict(frame)
    assert pd_.mean() == pytest.approx(y.mean(), abs=0.005)
    assert auc(y, pd_) > 0.8
    # 600 points at odds 50:1, 20 points to double the odds
    assert card.points(np.array([1 / 51]))[0] == pytest.approx(600.0)
    assert card.points(np.array([1 / 101]))[0] == pytest.approx(620.0)
    assert card.feature_points(frame).sum(axis=1) == pytest.approx(card.points(pd_))
    again = Scorecard.from_dict(card.as_dict())
    assert np.array_equal(again.predict(frame), pd_)


def test_ifrs9_stage_boundaries() -> None:
    rules = StagingRules()
    dpd = np.array([0, 30, 31, 89, 90, 0, 0, 0])
    pd_ = np.array([0.01, 0.01, 0.01, 0.3, np.nan, 0.08, 0.04, 0.30])
    orig = np.array([0.01, 0.01, 0.01, 0.01, 0.01, 0.02, 0.01, 0.20])
    stages, reasons = stage_loans(dpd, pd_, orig, rules)
    # 0.08 vs 0.02: x4 and +0.06 -> stage 2; 0.04 vs 0.01: x4 but +0.03 -> stage 1; 0.30 vs 0.20: +0.10, x1.5 -> 1
    assert stages.tolist() == [1, 1, 2, 2, 3, 2, 1, 1]
    assert "31 days past due" in reasons[2] and "in default" in reasons[4] and "origination" in reasons[5]
    assert bucket_of(np.array([0, 1, 29, 30, 59, 60, 89, 90])).tolist() == [
        "current", "1-29", "1-29", "30-59", "30-59", "60-89", "60-89", "90+",
    ]


def test_a_small_pure_tail_keeps_its_own_bin() -> None:
    """The first fit of the demo bank: 2,620 loans, 2,582 never late, 25 a little late, 13 far behind who all
    default. At 0.5 % a bin needs 13 rows: the tail keeps its bin and the feature its information value."""
    from warning_models.credit.woe import fit_bins

    late = [4, 4, 4, 4, 5, 6, 6, 7, 7, 7, 8, 8, 9, 10, 10, 11, 12, 15, 16, 16, 18, 19, 22, 25, 25]
    behind = [30, 34, 38, 42, 48, 52, 54, 58, 61, 65, 67, 78, 82]
    x = np.r_[np.zeros(2582), late, behind].astype(float)
    y = np.r_[np.zeros(2582 + len(late), dtype=bool), np.ones(len(behind), dtype=bool)]
    bins = fit_bins("days_past_due", x, y)
    assert bins.counts[-1] == 13 and bins.events[-1] == 13  # the 13 defaulters, alone
    assert bins.information_value > 1.0
