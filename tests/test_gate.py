"""The GX gate: passing batches go on, failing batches move to quarantine with the failed rules and lines."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import psycopg2
import pytest

from warning_models.gate import gate_batch
from warning_models.loader import load_file

DAY = dt.date(2025, 3, 3)
HEADER = "instrument_id,price_date,close_price\n"


def _load(url: str, tmp_path: Path, body: str, source: str = "market_prices", header: str = HEADER) -> str:
    path = tmp_path / f"{source}.csv"
    path.write_text(header + body)
    with psycopg2.connect(url) as conn:
        return load_file(conn, source, DAY, path).batch_id


def _one(url: str, sql: str, *params: object) -> tuple:
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchone()


def test_a_clean_batch_passes_and_its_results_are_stored(warehouse: str, tmp_path: Path) -> None:
    batch = _load(warehouse, tmp_path, "EQ01,2025-03-03,10\nEQ02,2025-03-03,20\n")
    with psycopg2.connect(warehouse) as conn:
        result = gate_batch(conn, warehouse, batch)
    assert result.passed and result.evaluated >= 6
    assert _one(warehouse, "select status from audit.batches where batch_id = %s", batch) == ("passed",)
    assert _one(warehouse, "select count(*), bool_and(success) from audit.dq_results where batch_id = %s", batch) == (
        result.evaluated,
        True,
    )


def test_a_failing_batch_is_quarantined_with_rule_and_lines(warehouse: str, tmp_path: Path) -> None:
    # a negative price on line 3, a row dated the day before on line 4, a duplicate key on lines 2 and 5
    batch = _load(warehouse, tmp_path, "EQ01,2025-03-03,10\nEQ02,2025-03-03,-4\nEQ03,2025-03-02,7\nEQ01,2025-03-03,10\n")
    with psycopg2.connect(warehouse) as conn:
        result = gate_batch(conn, warehouse, batch)
    assert not result.passed
    failed = {(f["expectation"], f["column"]): f for f in result.failures}
    assert set(failed) == {
        ("expect_column_values_to_be_between", "close_price"),
        ("expect_column_pair_values_to_be_equal", "price_date"),
        ("expect_compound_columns_to_be_unique", "batch_id,instrument_id,price_date"),
    }
    assert [e["line"] for e in failed[("expect_column_values_to_be_between", "close_price")]["examples"]] == [3]
    assert [e["line"] for e in failed[("expect_column_pair_values_to_be_equal", "price_date")]["examples"]] == [4]
    duplicates = failed[("expect_compound_columns_to_be_unique", "batch_id,instrument_id,price_date")]["examples"]
    assert [(e["instrument_id"], e["price_date"]) for e in duplicates] == [("EQ01", "2025-03-03")] * 2
    assert _one(warehouse, "select status from audit.batches where batch_id = %s", batch) == ("quarantined",)
    assert _one(warehouse, "select count(*) from raw.market_prices") == (0,)  # never reaches staging
    reason, n_failures, content = _one(
        warehouse, "select reason, jsonb_array_length(failures), file_content from quarantine.batches where batch_id = %s", batch
    )
    assert (reason, n_failures) == ("expectations", len(result.failures))
    assert bytes(content) == (tmp_path / "market_prices.csv").read_bytes()  # nothing lost
    assert _one(warehouse, "select count(*) filter (where not success) from audit.dq_results where batch_id = %s", batch) == (
        len(result.failures),
    )


def test_gating_a_decided_batch_again_changes_nothing(warehouse: str, tmp_path: Path) -> None:
    batch = _load(warehouse, tmp_path, "EQ01,2025-03-03,10\n")
    with psycopg2.connect(warehouse) as conn:
        gate_batch(conn, warehouse, batch)
        again = gate_batch(conn, warehouse, batch)
    assert again.passed and again.evaluated == 0
    assert _one(warehouse, "select count(*) from raw.market_prices") == (1,)


def test_access_events_outside_the_business_date_fail(warehouse: str, tmp_path: Path) -> None:
    header = "event_id,event_at,user_id,client_ip,action,object_name,rows_read\n"
    body = "E1,2025-03-03T09:00:00+00:00,U001,10.0.0.1,select,core.loans,10\nE2,2025-03-04T00:00:01+00:00,U001,10.0.0.1,select,core.loans,5\n"
    batch = _load(warehouse, tmp_path, body, source="access_events", header=header)
    with psycopg2.connect(warehouse) as conn:
        result = gate_batch(conn, warehouse, batch)
    assert not result.passed
    assert [(f["column"], [e["line"] for e in f["examples"]]) for f in result.failures] == [("event_at_utc_date", [3])]


def test_batches_validated_together_are_judged_one_by_one(warehouse: str, tmp_path: Path) -> None:
    from warning_models.gate import gate_batches

    ids = []
    for i, price in enumerate(["10", "-1", "12"]):
        day = DAY + dt.timedelta(days=i)
        path = tmp_path / f"{i}.csv"
        path.write_text(HEADER + f"EQ01,{day},{price}\n")
        with psycopg2.connect(warehouse) as conn:
            ids.append(load_file(conn, "market_prices", day, path).batch_id)
    with psycopg2.connect(warehouse) as conn:
        results = gate_batches(conn, warehouse, ids)
    assert [r.passed for r in results] == [True, False, True]
    assert [f["column"] for f in results[1].failures] == ["close_price"]
    assert _one(warehouse, "select count(*) from raw.market_prices") == (2,)


def test_a_long_gate_keeps_the_planner_counting_the_batches_it_passed(
    warehouse: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Gating a history turns thousands of batches from loaded to passed; each chunk's checks read the live
    batches, so they are planned from statistics that count the ones passed so far, not from the load's."""
    from warning_models import gate

    ids = []
    weekdays = [d for d in (DAY + dt.timedelta(days=n) for n in range(9)) if d.weekday() < 5]  # trading days
    for i, day in enumerate(weekdays):
        path = tmp_path / f"{i}.csv"
        path.write_text(HEADER + f"EQ01,{day},{10 + i / 100:.2f}\n")
        with psycopg2.connect(warehouse) as conn:
            ids.append(load_file(conn, "market_prices", day, path).batch_id)
    seen: list[str] = []
    run_suite = gate.run_suite

    def watched(conn, url, source, chunk, *args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(_one(url, "select most_common_vals::text from pg_stats where schemaname = 'audit'"
                              " and tablename = 'batches' and attname = 'status'")[0])
        return run_suite(conn, url, source, chunk, *args, **kwargs)

    monkeypatch.setattr(gate, "CHUNK", 3)
    monkeypatch.setattr(gate, "run_suite", watched)
    with psycopg2.connect(warehouse) as conn:
        results = gate.gate_batches(conn, warehouse, ids)
    assert all(r.passed for r in results), [r.failures for r in results if not r.passed]
    assert seen[0] == "{loaded}" and len(seen) == 3
    assert all("passed" in s for s in seen[1:]), seen
