"""End to end on a real PostgreSQL: a small synthetic bank through load → gate → dbt → indicators → evaluation."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import psycopg2
import pytest

from tests.conftest import END, SMALL_BANK, START, settings_for
from warning_models.contract import landing_path
from warning_models.pipeline import DayReport, backfill, run_day


def _fetch(url: str, sql: str, *params: object) -> list[tuple]:
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


def _state(url: str) -> dict[str, list[tuple]]:
    """What a rerun must leave unchanged (timestamps aside)."""
    return {
        "batches": _fetch(url, "select batch_id, status, row_count from audit.batches order by 1"),
        "alerts": _fetch(url, "select alert_id, severity, round(value::numeric, 6), explanation from warning.alerts order by 1"),
        "values": _fetch(url, "select count(*), round(sum(value)::numeric, 4) from warning.indicator_values"),
        "runs": _fetch(url, "select model_run_id, n_obs, data_hash from warning.model_runs order by 1"),
        "loan_days": _fetch(url, "select count(*), sum(balance_amount) from marts.fct_loan_days"),
    }


def test_every_clean_batch_passes_the_gate(bank_run: tuple[str, Path, list[DayReport]]) -> None:
    """No false rejects: 130 clean business days, every authenticity check run against its history, none blocks."""
    url, home, reports = bank_run
    assert len(reports) == SMALL_BANK["days"] >= 60
    checks = dict(_fetch(url, "select check_name, count(*) from audit.dq_results group by 1"))
    assert {
        "control_totals", "orphan_keys", "row_count_collapse", "category_drift", "price_jump", "stale_price",
        "instrument_missing", "balance_reconciliation", "days_past_due_jump", "loan_vanished", "macro_value_jump",
    } <= set(checks)
    assert _fetch(url, "select count(*) from audit.dq_results where not success and severity = 'block'") == [(0,)]
    site = home / "gx" / "data_docs"  # the Data Docs site people browse, safe to open offline
    assert "raw_market_prices" in (site / "index.html").read_text()
    assert "raw_loan_performance" in (site / "ews_index.html").read_text()
    pages = list(site.rglob("*.html"))
    assert len(pages) > 10 and not [p for p in pages if re.search(r'(src|href)="https?://[^"]*\.(js|css)', p.read_text())]
    assert [r.business_date for r in reports if r.ingest.quarantined or r.ingest.missing] == []
    statuses = dict(_fetch(url, "select status, count(*) from audit.batches group by 1"))
    assert set(statuses) == {"passed"} and statuses["passed"] >= 5 * len(reports)
    assert _fetch(url, "select count(*) = count(distinct batch_id) from audit.dq_results where not success") == [(True,)]


def test_dbt_marts_hold_every_day(bank_run: tuple[str, Path, list[DayReport]]) -> None:
    url, _, _ = bank_run
    assert _fetch(url, "select min(performance_date), max(performance_date) from marts.fct_loan_days") == [(START, END)]
    assert _fetch(url, "select count(distinct activity_date) from marts.fct_user_days") == [(SMALL_BANK["days"],)]
    assert _fetch(url, "select max(price_date) <= %s, count(*) > 50 from marts.fct_market_index_days", END) == [(True, True)]
    assert _fetch(url, "select count(distinct economy_code) from marts.fct_credit_to_gdp_quarters") == [(SMALL_BANK["n_economies"],)]


@pytest.mark.parametrize("domain", ["credit", "market", "macro", "access"])
def test_each_domain_writes_indicators_model_runs_and_alerts(bank_run: tuple[str, Path, list[DayReport]], domain: str) -> None:
    url, _, _ = bank_run
    [(values, runs)] = _fetch(
        url,
        """select (select count(*) from warning.indicator_values where domain = %s),
                  (select count(*) from warning.model_runs where domain = %s)""",
        domain,
        domain,
    )
    assert values > 0 and runs > 0
    [(alerts, explained, with_run)] = _fetch(
        url,
        """select count(*), count(*) filter (where length(explanation) > 20), count(model_run_id)
           from warning.alerts where domain = %s""",
        domain,
    )
    assert alerts > 0, f"no {domain} alerts"
    assert explained == alerts == with_run


def test_evaluate_scores_every_domain_and_stores_it(bank_run: tuple[str, Path, list[DayReport]]) -> None:
    from warning_models.evaluate import evaluate

    url, home, _ = bank_run
    with psycopg2.connect(url) as conn:
        results = {r.domain: r for r in evaluate(conn, settings_for(home, url).truth_path)}
        again = {r.domain: r for r in evaluate(conn, settings_for(home, url).truth_path)}
    assert results == again
    assert set(results) == {"credit", "market", "macro", "access"}
    for domain, r in results.items():
        assert r.episodes > 0, domain
        assert r.detected > 0, f"{domain}: no episode detected"
    assert _fetch(url, "select count(*) from warning.evaluation_results") == [(4,)]


def test_rerunning_a_day_leaves_the_warehouse_unchanged(bank_run: tuple[str, Path, list[DayReport]]) -> None:
    url, home, _ = bank_run
    before = _state(url)
    run_day(END, settings=settings_for(home, url), url=url)
    run_day(END - dt.timedelta(days=20), settings=settings_for(home, url), url=url)
    assert _state(url) == before


def test_a_corrupted_batch_is_quarantined_never_reaches_the_marts_and_a_fixed_rerun_succeeds(
    small_bank: Path, make_database: Callable[[], str], tmp_path: Path
) -> None:
    url = make_database()
    home = tmp_path / "home"
    settings = settings_for(home, url)
    days = [START + dt.timedelta(days=i) for i in range(3)]
    for source_dir in (small_bank / "landing").iterdir():
        for day in days:
            src = landing_path(small_bank / "landing", source_dir.name, day)
            if src.is_file():
                dst = landing_path(settings.landing_dir, source_dir.name, day)
                dst.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(src, dst)
    bad_day = days[1]
    perf = landing_path(settings.landing_dir, "loan_performance", bad_day)
    good_text = perf.read_text()
    lines = good_text.splitlines()
    header = lines[0].split(",")
    row = lines[5].split(",")
    row[header.index("balance_amount")] = "-125.00"  # a negative balance on file line 6
    perf.write_text("\n".join([*lines[:5], ",".join(row), *lines[6:]]) + "\n")

    reports = backfill(days[0], days[-1], settings=settings, url=url)
    held = {r.business_date: r.ingest.quarantined for r in reports}
    assert held[days[0]] == [] and held[days[2]] == []
    assert len(held[bad_day]) == 1 and "loan_performance" in held[bad_day][0]
    [(failures,)] = _fetch(url, "select failures from quarantine.batches where source = 'loan_performance'")
    by_check = {f["check"]: f for f in failures}
    # the range rule names the line, and the balance no longer reconciles with the day before
    assert set(by_check) == {"value_range", "balance_reconciliation"}
    assert by_check["value_range"]["column"] == "balance_amount" and by_check["value_range"]["examples"][0]["line"] == 6
    assert [e["line"] for e in by_check["balance_reconciliation"]["examples"]] == [6]
    assert str(perf) == by_check["value_range"]["file"]
    perf_days = _fetch(url, "select distinct performance_date from marts.fct_loan_days order by 1")
    assert perf_days == [(days[0],), (days[2],)]  # the quarantined day never reached the marts
    assert _fetch(url, "select count(*) from marts.fct_user_days where activity_date = %s", bad_day)[0][0] > 0  # others went on

    perf.write_text(good_text)  # the bank re-extracts the file; rerun the day
    run_day(bad_day, settings=settings, url=url)
    assert _fetch(url, "select count(distinct performance_date) from marts.fct_loan_days") == [(3,)]
    statuses = _fetch(url, "select status, count(*) from audit.batches where source = 'loan_performance' group by 1 order by 1")
    assert statuses == [("passed", 3), ("quarantined", 1)]
