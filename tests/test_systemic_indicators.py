"""The systemic early-warning indicator on the generator's 10-economy panel (tests/indicator_fixtures.py):
signals, logit probabilities, stress index and their point-in-time discipline, against a real PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator

import psycopg2
import psycopg2.extensions
import pytest

from tests.indicator_fixtures import LoanBook, load_marts, systemic_panel
from warning_models.errors import InsufficientHistoryError
from warning_models.indicators import macro_ews

AS_OF = dt.date(2025, 6, 29)  # the span's end: XC has been booming for 10-12 quarters


@pytest.fixture(scope="module")
def db_url(make_database: Callable[[], str]) -> str:
    url = make_database()
    with psycopg2.connect(url) as conn:
        load_marts(conn, LoanBook())
    return url


@pytest.fixture
def conn(db_url: str) -> Iterator[psycopg2.extensions.connection]:
    connection = psycopg2.connect(db_url)
    try:
        yield connection
    finally:
        connection.rollback()
        connection.close()


@pytest.fixture(scope="module")
def result(db_url: str) -> macro_ews.IndicatorResult:
    with psycopg2.connect(db_url) as conn:
        return macro_ews.compute(conn, AS_OF)


def _rows(result: macro_ews.IndicatorResult, table: str) -> list[dict[str, object]]:
    found = next(t for t in result.tables if t.table == table)
    return [dict(zip(found.columns, r)) for r in found.rows]


def test_macro_ews_flags_the_booming_economy_and_few_others(result: macro_ews.IndicatorResult) -> None:
    probability = result.alert_for("XC", "macro_ews_probability")
    signals = result.alert_for("XC", "macro_signals")
    assert probability is not None and probability.value > 0.9 and "credit-to-GDP gap" in probability.explanation
    assert signals is not None and signals.value >= 3 and "relative usefulness" in signals.explanation
    others = {a.entity_id for a in result.alerts} - {"XC"}
    assert len(others) <= 2, others
    assert max(v.value for v in result.values if v.entity_id != "XC") < 0.5


def test_macro_ews_stores_thresholds_whose_ratios_match_their_counts(result: macro_ews.IndicatorResult) -> None:
    rows = _rows(result, "warning.signal_thresholds")
    assert {(r["indicator_name"], r["criterion"]) for r in rows} == {
        (name, criterion) for name in macro_ews.INDICATORS for criterion in ("noise_to_signal", "relative_usefulness")
    }
    for r in rows:
        tp, fp, fn, tn = (r[f"{k}_count"] for k in ("true_positives", "false_positives", "false_negatives", "true_negatives"))
        t1, t2 = fn / (tp + fn), fp / (fp + tn)
        assert r["noise_to_signal_ratio"] == pytest.approx(t2 / (1 - t1))
        assert r["relative_usefulness"] == pytest.approx((0.5 - (0.5 * t1 + 0.5 * t2)) / 0.5)
    by = {(r["indicator_name"], r["criterion"]): r for r in rows}
    gap = by[("credit_gap_pp", "relative_usefulness")]
    assert gap["auroc"] > 0.85 and gap["relative_usefulness"] > 0.5  # the credit gap is the best single signal
    for name in macro_ews.INDICATORS:  # the NSR criterion never has a higher NSR than the usefulness one
        assert by[(name, "noise_to_signal")]["noise_to_signal_ratio"] <= by[(name, "relative_usefulness")]["noise_to_signal_ratio"]


def test_macro_ews_out_of_sample_figures_and_exclusions(result: macro_ews.IndicatorResult) -> None:
    validations = {(r["sample"], r["metric"]): r["value"] for r in _rows(result, "warning.model_validations")}
    assert validations[("out_of_sample", "auroc")] > 0.75
    assert validations[("out_of_sample", "pre_crisis_quarters")] >= 20
    quarters = _rows(result, "warning.systemic_risk_quarters")
    _, crises = systemic_panel()
    crisis = crises.iloc[0]
    during = [q for q in quarters if q["economy_code"] == crisis.economy_code
              and crisis.crisis_start_date <= q["period_end_date"] <= crisis.crisis_end_date]
    assert during and all(q["exclusion_reason"] == "in_crisis" and q["pre_crisis"] is None for q in during)
    after = [q for q in quarters if q["economy_code"] == crisis.economy_code
             and q["period_end_date"] > crisis.crisis_end_date][:6]
    assert all(q["exclusion_reason"] == "post_crisis" for q in after)
    latest_xc = max((q for q in quarters if q["economy_code"] == "XC"), key=lambda q: q["period_end_date"])
    assert latest_xc["exclusion_reason"] == "outcome_unknown" and latest_xc["stress_index"] > 0.8


def test_macro_ews_uses_only_what_was_published(conn: psycopg2.extensions.connection, result: macro_ews.IndicatorResult) -> None:
    with conn.cursor() as cur:  # a crisis dated later, and a wild quarter published after AS_OF
        cur.execute("insert into marts.dim_systemic_crises values ('XD|2024-01-01', 'XD', '2024-01-01', null, true, "
                    "null, '2025-07-15')")
        cur.execute("insert into marts.fct_macro_indicator_quarters values ('XD|2025-06-30', 'XD', '2025-06-30', 400, "
                    "50, 80, 300, 90, 60, '2025-08-14')")
    again = macro_ews.compute(conn, AS_OF)
    assert again.run.data_hash == result.run.data_hash
    assert {v.entity_id: v.value for v in again.values} == {v.entity_id: v.value for v in result.values}


def test_macro_ews_needs_dated_crises(conn: psycopg2.extensions.connection) -> None:
    with conn.cursor() as cur:
        cur.execute("delete from marts.dim_systemic_crises")
    with pytest.raises(InsufficientHistoryError):
        macro_ews.compute(conn, AS_OF)
