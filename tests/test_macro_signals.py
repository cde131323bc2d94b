"""Crisis windows, the signals approach (NSR, Alessi-Detken usefulness), AUROC and the stress index, by hand."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

from warning_models.macro.crisis_windows import Crisis, as_crises, label_quarters, quarter_index
from warning_models.macro.signals import (
    Confusion,
    auroc,
    best_threshold,
    confusion,
    evaluate_indicators,
    threshold_table,
)
from warning_models.macro.stress_index import recursive_ecdf, stress_index

# ---------------------------------------------------------------------------------------------------------------
# Confusion, NSR, usefulness


def test_confusion_and_usefulness_by_hand() -> None:
    # 10 quarters: the first four are pre-crisis; the indicator signals in quarters 0, 1, 2 and 4.
    signal = [1, 1, 1, 0, 1, 0, 0, 0, 0, 0]
    target = [1, 1, 1, 1, 0, 0, 0, 0, 0, 0]
    c = confusion(np.array(signal, dtype=bool), target)
    assert c == Confusion(tp=3, fp=1, fn=1, tn=5)
    assert c.n == 10
    assert c.t1 == pytest.approx(0.25)  # 1 missed of 4 pre-crisis quarters
    assert c.t2 == pytest.approx(1 / 6)  # 1 false alarm in 6 tranquil quarters
    assert c.noise_to_signal == pytest.approx(0.222222, abs=1e-6)  # (1/6) / (1 - 0.25)
    # theta = 0.5: L = 0.5 * 0.25 + 0.5 * 1/6 = 0.208333; Ua = 0.5 - L = 0.291667; Ur = Ua / 0.5 = 0.583333
    assert c.loss(0.5) == pytest.approx(0.208333, abs=1e-6)
    assert c.absolute_usefulness(0.5) == pytest.approx(0.291667, abs=1e-6)
    assert c.relative_usefulness(0.5) == pytest.approx(0.583333, abs=1e-6)
    # theta = 0.8 (missed crises four times as costly): L = 0.8 * 0.25 + 0.2 * 1/6 = 0.233333 > min(0.8, 0.2):
    # Ua = 0.2 - 0.233333 = -0.033333, Ur = -0.166667 (worse than always signalling).
    assert c.loss(0.8) == pytest.approx(0.233333, abs=1e-6)
    assert c.absolute_usefulness(0.8) == pytest.approx(-0.033333, abs=1e-6)
    assert c.relative_usefulness(0.8) == pytest.approx(-0.166667, abs=1e-6)


def test_confusion_edge_cases() -> None:
    # No correct signal: NSR infinite; a perfect indicator: NSR 0 and Ur 1.
    assert Confusion(tp=0, fp=2, fn=3, tn=5).noise_to_signal == math.inf
    perfect = Confusion(tp=4, fp=0, fn=0, tn=6)
    assert perfect.noise_to_signal == 0.0
    assert perfect.relative_usefulness(0.5) == pytest.approx(1.0)
    # Never signalling: L = theta * 1 = 0.5 = min(theta, 1 - theta), so no usefulness.
    assert Confusion(tp=0, fp=0, fn=4, tn=6).relative_usefulness(0.5) == pytest.approx(0.0)
    # Missing targets are left out of the counts.
    c = confusion([True, True, False], pd.array([1, pd.NA, 0], dtype="Int64"))
    assert c == Confusion(tp=1, fp=0, fn=0, tn=1)
    with pytest.raises(ValueError):
        confusion([True, False], [1, 0, 1])
    with pytest.raises(ValueError):
        confusion([True, False], [1, 2])
    with pytest.raises(ValueError):
        Confusion(1, 1, 1, 1).loss(1.0)


# ---------------------------------------------------------------------------------------------------------------
# Threshold choice

# Pre-crisis quarters have values 9, 8, 6, 4; tranquil ones 7, 5, 3, 2, 1, 0. Signal = value >= threshold.
#   thr  tp fp  T1    T2    NSR                 L (theta .5)          Ur
#   9    1  0   3/4   0     0                   .375                  .25
#   8    2  0   1/2   0     0                   .25                   .5
#   7    2  1   1/2   1/6   (1/6)/(1/2) = .333  .3333                 .3333
#   6    3  1   1/4   1/6   .2222               .2083                 .5833
#   5    3  2   1/4   1/3   .4444               .2917                 .4167
#   4    4  2   0     1/3   .3333               .1667                 .6667   <- max usefulness
#   3    4  3   0     1/2   .5                  .25                   .5
# NSR is 0 at both 9 and 8: the tie goes to the one with more true positives, 8. Usefulness picks 4.
VALUES = [9, 8, 6, 4, 7, 5, 3, 2, 1, 0]
TARGET = [1, 1, 1, 1, 0, 0, 0, 0, 0, 0]


def test_best_threshold_differs_between_criteria() -> None:
    nsr = best_threshold(VALUES, TARGET, "noise_to_signal")
    assert nsr.threshold == 8
    assert nsr.confusion == Confusion(tp=2, fp=0, fn=2, tn=6)
    assert nsr.noise_to_signal == 0.0
    assert nsr.relative_usefulness == pytest.approx(0.5)

    ur = best_threshold(VALUES, TARGET, "relative_usefulness", theta=0.5)
    assert ur.threshold == 4
    assert ur.confusion == Confusion(tp=4, fp=2, fn=0, tn=4)
    assert ur.noise_to_signal == pytest.approx(1 / 3)
    assert ur.relative_usefulness == pytest.approx(2 / 3)
    np.testing.assert_array_equal(ur.signal(VALUES), np.array(VALUES) >= 4)


def test_threshold_table_matches_hand_grid() -> None:
    table = threshold_table(VALUES, TARGET, theta=0.5).set_index("threshold")
    assert list(table.index) == list(range(10))  # the distinct observed values
    assert table.loc[6, ["tp", "fp", "fn", "tn"]].tolist() == [3, 1, 1, 5]
    assert table.loc[5, "noise_to_signal"] == pytest.approx(4 / 9)
    assert table.loc[7, "relative_usefulness"] == pytest.approx(1 / 3)


def test_best_threshold_direction_nan_and_min_signals() -> None:
    # "below": the mirrored indicator gives the mirrored thresholds.
    neg = [-v for v in VALUES]
    assert best_threshold(neg, TARGET, "noise_to_signal", direction="below").threshold == -8
    assert best_threshold(neg, TARGET, "relative_usefulness", direction="below").threshold == -4
    # NaN values (and their targets) are left out: a NaN pre-crisis quarter must not count as missed.
    with_nan = [*VALUES, np.nan, np.nan]
    choice = best_threshold(with_nan, [*TARGET, 1, 0], "relative_usefulness")
    assert choice.threshold == 4 and choice.confusion.n == 10
    # Requiring 3 correct signals rules out 9 and 8 for NSR: the best left is 6 (NSR 0.2222).
    assert best_threshold(VALUES, TARGET, "noise_to_signal", min_signals=3).threshold == 6
    with pytest.raises(ValueError):
        best_threshold(VALUES, [0] * 10, "noise_to_signal")
    with pytest.raises(ValueError):
        best_threshold(VALUES, TARGET, "auc")


def test_nsr_tie_goes_to_the_higher_threshold() -> None:
    # Candidates 7.5 and 8 both give tp=2, fp=0 (NSR 0); 8.5 gives tp=1, fp=0 (NSR 0, fewer hits).
    choice = best_threshold(VALUES, TARGET, "noise_to_signal", candidates=[7.5, 8.0, 8.5])
    assert choice.threshold == 8.0
    # For "below" the more conservative of equal choices is the lower threshold.
    choice = best_threshold([-v for v in VALUES], TARGET, "noise_to_signal", direction="below", candidates=[-8.0, -7.5])
    assert choice.threshold == -8.0


def test_percentile_candidates() -> None:
    choice = best_threshold(VALUES, TARGET, "relative_usefulness", candidates="percentiles")
    # The best signal set (values >= 4) is reached by every percentile in (3, 4]; the highest one is taken.
    assert 3 < choice.threshold <= 4
    assert choice.confusion == Confusion(tp=4, fp=2, fn=0, tn=4)


# ---------------------------------------------------------------------------------------------------------------
# AUROC


def test_auroc_by_hand_with_ties() -> None:
    # Positives 0.4, 0.8, 0.4; negatives 0.1, 0.4. Pairs: (0.4, 0.1) 1, (0.4, 0.4) 1/2, (0.8, 0.1) 1,
    # (0.8, 0.4) 1, (0.4, 0.1) 1, (0.4, 0.4) 1/2 -> 5 / 6. By ranks: 0.1 -> 1, the three 0.4 -> 3, 0.8 -> 5;
    # R1 = 3 + 5 + 3 = 11, (11 - 3 * 4 / 2) / (3 * 2) = 5 / 6.
    assert auroc([0.1, 0.4, 0.4, 0.8, 0.4], [0, 0, 1, 1, 1]) == pytest.approx(5 / 6)
    assert auroc([1, 2, 3, 4], [0, 0, 1, 1]) == 1.0
    assert auroc([4, 3, 2, 1], [0, 0, 1, 1]) == 0.0
    assert auroc([2, 2, 2, 2], [0, 1, 0, 1]) == 0.5
    # NaN scores are dropped: only (1, 0) and (3, 1) remain.
    assert auroc([1, np.nan, 3], [0, 0, 1]) == 1.0
    assert math.isnan(auroc([1, 2], [1, 1]))
    # The table example: 9 beats 6 tranquil values, 8 beats 6, 6 beats 5, 4 beats 4 -> 21 / 24.
    assert auroc(VALUES, TARGET) == pytest.approx(0.875)


def test_evaluate_indicators_uses_usable_quarters_only() -> None:
    panel = pd.DataFrame(
        {
            "economy_code": "AA",
            "period_end_date": pd.date_range("2000-03-31", periods=12, freq="QE").date,
            # The two last rows are unusable (in crisis) and would change every figure if counted.
            "credit_gap_pp": [*VALUES, 100.0, 100.0],
            "flat": [1.0] * 12,
            "pre_crisis": pd.array([*TARGET, pd.NA, pd.NA], dtype="Int64"),
            "usable": [True] * 10 + [False] * 2,
        }
    )
    out = evaluate_indicators(panel, ["credit_gap_pp", "flat"], theta=0.5).set_index(["indicator", "criterion"])
    gap_nsr = out.loc[("credit_gap_pp", "noise_to_signal")]
    gap_ur = out.loc[("credit_gap_pp", "relative_usefulness")]
    assert gap_nsr["threshold"] == 8 and gap_nsr["tp"] == 2 and gap_nsr["fp"] == 0
    assert gap_ur["threshold"] == 4 and gap_ur["relative_usefulness"] == pytest.approx(2 / 3)
    assert gap_ur["absolute_usefulness"] == pytest.approx(1 / 3)
    assert gap_ur["auroc"] == pytest.approx(0.875) and gap_ur["n_obs"] == 10
    # A constant indicator: one threshold that signals everywhere (tp=4, fp=6): Ur 0, AUROC 0.5.
    flat = out.loc[("flat", "relative_usefulness")]
    assert flat["tp"] == 4 and flat["fp"] == 6 and flat["relative_usefulness"] == pytest.approx(0.0)
    assert flat["auroc"] == 0.5


# ---------------------------------------------------------------------------------------------------------------
# Crisis windows

DATES = pd.date_range("2000-03-31", periods=28, freq="QE").date  # 2000Q1 (t = 0) .. 2006Q4 (t = 27)


def _panel(codes: tuple[str, ...] = ("AA",)) -> pd.DataFrame:
    return pd.concat(
        [pd.DataFrame({"economy_code": c, "period_end_date": DATES, "x": np.arange(28.0)}) for c in codes],
        ignore_index=True,
    )


def test_label_quarters_one_crisis_by_hand() -> None:
    # Crisis of AA from 2004-02-15 (2004Q1, t = 16) to 2004-12-31 (2004Q4, t = 19); defaults h = 5..12, post 6.
    crises = [("AA", dt.date(2004, 2, 15), dt.date(2004, 12, 31))]
    out = label_quarters(_panel(("AA", "BB")), crises)
    aa = out[out["economy_code"] == "AA"]
    expected_reason = (
        [None] * 16  # 2000Q1..2003Q4 (filled in below)
        + ["in_crisis"] * 4  # t = 16..19
        + ["post_crisis"] * 6  # t = 20..25: 2005Q1..2006Q2
        + ["outcome_unknown"] * 2  # t = 26, 27: the window t + 12 reaches past 2006Q4
    )
    expected_reason[12:16] = ["too_close"] * 4  # t = 12..15: 4..1 quarters before the start
    assert aa["exclusion_reason"].tolist() == expected_reason
    # t = 0..3: the crisis is 16..13 quarters ahead (beyond 12): tranquil; t = 4..11: 12..5 ahead: pre-crisis.
    expected_target = [0] * 4 + [1] * 8 + [None] * 16
    assert [None if pd.isna(v) else int(v) for v in aa["pre_crisis"]] == expected_target
    assert aa["usable"].tolist() == [True] * 12 + [False] * 16
    assert str(out["pre_crisis"].dtype) == "Int64"
    # BB has no crisis: tranquil while its window is known (t + 12 <= 27), unknown after.
    bb = out[out["economy_code"] == "BB"]
    assert bb["pre_crisis"].iloc[:16].tolist() == [0] * 16
    assert bb["exclusion_reason"].iloc[16:].tolist() == ["outcome_unknown"] * 12
    assert list(out.index) == list(range(56))


def test_label_quarters_information_date() -> None:
    crises = pd.DataFrame(
        {
            "economy_code": ["AA"],
            "crisis_start_date": [dt.date(2004, 2, 15)],
            "crisis_end_date": [dt.date(2004, 12, 31)],
        }
    )
    # On 2003-12-31 (t = 15) the crisis is unknown: only t <= 3 (t + 12 <= 15) have a known outcome, all 0.
    before = label_quarters(_panel(), crises, last_known_date=dt.date(2003, 12, 31))
    assert before["usable"].tolist() == [True] * 4 + [False] * 24
    assert set(before["exclusion_reason"].iloc[4:]) == {"outcome_unknown"}
    # On 2004-06-30 (t = 17) it has started and not ended: ongoing, so everything from t = 16 is in crisis;
    # t = 4..11 are 1 although most of their windows are not over (a crisis is already known inside them).
    during = label_quarters(_panel(), crises, last_known_date=dt.date(2004, 6, 30))
    assert during["exclusion_reason"].iloc[16:].tolist() == ["in_crisis"] * 12
    assert during["pre_crisis"].iloc[:12].tolist() == [0] * 4 + [1] * 8
    assert during["exclusion_reason"].iloc[12:16].tolist() == ["too_close"] * 4
    # A mid-quarter information date counts the crisis (started before it) but not the unfinished quarter.
    mid = label_quarters(_panel(), crises, last_known_date=dt.date(2004, 2, 20))
    assert mid["exclusion_reason"].iloc[16] == "in_crisis"
    assert mid["pre_crisis"].iloc[4] == 1


def test_label_quarters_horizon_one_to_twelve_and_ongoing() -> None:
    crises = [Crisis("AA", dt.date(2004, 2, 15), None)]  # ongoing
    out = label_quarters(_panel(), crises, horizon_min=1, horizon_max=12)
    # No run-up exclusion with h_min = 1: t = 4..15 are all pre-crisis; from t = 16 on, in crisis.
    assert out["pre_crisis"].iloc[:16].tolist() == [0] * 4 + [1] * 12
    assert out["exclusion_reason"].iloc[16:].tolist() == ["in_crisis"] * 12
    with pytest.raises(ValueError):
        label_quarters(_panel(), crises, horizon_min=6, horizon_max=5)


def test_label_quarters_overlapping_crises_exclusions_win() -> None:
    # Crisis 1 in 2000Q2 (t = 1) only; crisis 2 from 2003Q3 (t = 14), pre-crisis window t = 2..9. With post 6,
    # t = 2..7 are post-crisis of crisis 1: the exclusion wins over crisis 2's window, so only t = 8, 9 are 1.
    # t = 0 is one quarter before crisis 1 (too close); t = 10..13 are 4..1 quarters before crisis 2.
    crises = [("AA", "2000-05-01", "2000-06-30"), ("AA", "2003-08-10", "2003-12-31")]
    out = label_quarters(_panel(), crises, post_crisis_quarters=6)
    assert out["exclusion_reason"].iloc[:14].tolist() == (
        ["too_close", "in_crisis"] + ["post_crisis"] * 6 + [None, None] + ["too_close"] * 4
    )
    assert out["pre_crisis"].iloc[8:10].tolist() == [1, 1]
    assert as_crises(crises)[0] == Crisis("AA", dt.date(2000, 5, 1), dt.date(2000, 6, 30))


def test_quarter_index_is_calendar_based() -> None:
    assert quarter_index(dt.date(2000, 3, 31))[0] + 1 == quarter_index(dt.date(2000, 4, 1))[0]
    assert quarter_index([dt.date(2001, 12, 31), dt.date(2002, 1, 1)]).tolist() == [2001 * 4 + 3, 2002 * 4]


# ---------------------------------------------------------------------------------------------------------------
# Stress index


def _stress_panel() -> pd.DataFrame:
    d1, d2, d3 = dt.date(2000, 3, 31), dt.date(2000, 6, 30), dt.date(2000, 9, 30)
    return pd.DataFrame(
        {
            "economy_code": ["A", "B", "A", "B", "A", "B"],
            "period_end_date": [d1, d1, d2, d2, d3, d3],
            "x1": [1.0, 3.0, 2.0, np.nan, 5.0, 0.0],
            "x2": [10.0, 20.0, 30.0, 40.0, 10.0, 50.0],  # low values = stress
        }
    )


def test_stress_index_by_hand() -> None:
    out = stress_index(_stress_panel(), ["x1", "x2"], directions={"x2": "below"})
    # x1, pooled history up to each date:
    #   d1 {1, 3}: A 1 -> 1/2, B 3 -> 2/2;  d2 {1, 3, 2}: A 2 -> 2/3;  d3 {1, 3, 2, 5, 0}: A 5 -> 1, B 0 -> 1/5
    np.testing.assert_allclose(out["x1_ecdf"], [0.5, 1.0, 2 / 3, np.nan, 1.0, 0.2])
    # x2 negated: d1 {-10, -20}: A 1, B 1/2; d2 adds -30, -40: A -30 -> 2/4, B -40 -> 1/4;
    #   d3 adds -10, -50 (6 values): A -10 -> 6/6, B -50 -> 1/6
    np.testing.assert_allclose(out["x2_ecdf"], [1.0, 0.5, 0.5, 0.25, 1.0, 1 / 6])
    # Equal weights over the indicators present: B at d2 has x2 only.
    np.testing.assert_allclose(out["stress_index"], [0.75, 0.75, 7 / 12, 0.25, 1.0, 11 / 60])
    assert out["n_indicators"].tolist() == [2, 2, 2, 1, 2, 2]
    weighted = stress_index(_stress_panel(), ["x1", "x2"], directions={"x2": "below"}, weights={"x1": 3, "x2": 1})
    assert weighted["stress_index"].iloc[0] == pytest.approx((3 * 0.5 + 1.0) / 4)
    # Per-economy history: A's x1 is a running maximum (1, 2, 5), so always 1.
    own = stress_index(_stress_panel(), ["x1"], pool="economy")
    assert own.loc[own["economy_code"] == "A", "stress_index"].tolist() == [1.0, 1.0, 1.0]
    # A history shorter than min_history gives no value: d1 has 2 pooled values of x1.
    short = recursive_ecdf(np.array([1.0, 3.0, 2.0]), np.array([1, 1, 2]), min_history=3)
    np.testing.assert_allclose(short, [np.nan, np.nan, 2 / 3])


def test_stress_index_has_no_look_ahead() -> None:
    rng = np.random.default_rng(3)
    dates = pd.date_range("2000-03-31", periods=40, freq="QE").date
    panel = pd.concat(
        [
            pd.DataFrame(
                {"economy_code": c, "period_end_date": dates, "a": rng.normal(size=40), "b": rng.normal(size=40)}
            )
            for c in ("E1", "E2", "E3")
        ],
        ignore_index=True,
    )
    base = stress_index(panel, ["a", "b"])
    cut = dates[19]
    later = panel["period_end_date"] > cut
    changed = panel.copy()
    changed.loc[later, "a"] = changed.loc[later, "a"] * 10 - 5
    changed.loc[later, "b"] = np.nan
    again = stress_index(changed, ["a", "b"])
    early = ~later.to_numpy()
    np.testing.assert_array_equal(again["stress_index"].to_numpy()[early], base["stress_index"].to_numpy()[early])
    assert not np.allclose(again["stress_index"].to_numpy()[~early], base["stress_index"].to_numpy()[~early])
    # Values lie in (0, 1].
    assert base["stress_index"].between(0, 1).all()
