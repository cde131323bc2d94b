"""The checks of a gate chunk are planned for the chunk's batches: their cost does not grow with the history.

A chunk's checks start from `cur`, the batches under test. Written as `batch_id in (ids) or batch_id in (rows of
the batch)`, the planner could not join it: it ran the chunk's rows once per row of audit.batches, which holds
every batch of the history (a minute per chunk after a year, hours for a 3-year history's gate)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import psycopg2

from expectations import build_suite
from expectations.custom import batches_under_test
from warning_models.gate import _gate_query
from tests.query_plans import plan_nodes
from warning_models.loader import load_file

DAY = dt.date(2025, 3, 3)
HEADER = "instrument_id,price_date,close_price\n"


def _load_prices(url: str, tmp_path: Path, days: int) -> list[str]:
    ids = []
    for i in range(days):
        day = DAY + dt.timedelta(days=i)
        path = tmp_path / f"{i}.csv"
        path.write_text(HEADER + f"EQ01,{day},{10 + i / 100:.2f}\nEQ02,{day},{20 + i / 100:.2f}\n")
        with psycopg2.connect(url) as conn:
            ids.append(load_file(conn, "market_prices", day, path).batch_id)
    return ids



def test_the_batches_under_test_are_planned_as_the_named_ones(warehouse: str, tmp_path: Path) -> None:
    ids = _load_prices(warehouse, tmp_path, 12)
    chunk = ids[4:8]
    with psycopg2.connect(warehouse) as conn, conn.cursor() as cur:
        cur.execute("analyze audit.batches")
        batch = f"({_gate_query(conn, 'market_prices', chunk)})"
        cur.execute("explain (format json) select * from (" + batches_under_test(chunk).replace("{batch}", batch) + ") as c")
        plan = cur.fetchone()[0][0]["Plan"]
    nodes = list(plan_nodes(plan))
    assert {n.get("Relation Name") for n in nodes} - {None} == {"batches"}, plan  # not the chunk's rows
    assert not any(n.get("Parent Relationship") == "SubPlan" for n in nodes), plan
    assert plan["Plan Rows"] == len(chunk), plan


def test_every_check_of_a_chunk_names_its_batch() -> None:
    """GX prints a warning for each query without `{batch}`: the named batches must not drop it."""
    for source in ("market_prices", "loan_performance", "repayments", "access_events"):
        queries = [getattr(e, "unexpected_rows_query", None) for e in build_suite(source, ["x:2025-03-03:0123456789ab"]).expectations]
        assert all("{batch}" in q for q in queries if q), source


def test_a_suite_built_without_ids_tests_the_batches_of_its_rows(warehouse: str, tmp_path: Path) -> None:
    ids = _load_prices(warehouse, tmp_path, 5)
    with psycopg2.connect(warehouse) as conn, conn.cursor() as cur:
        for named in ([], ids[1:3]):
            batch = f"({_gate_query(conn, 'market_prices', ids[1:3])})"
            cur.execute(batches_under_test(named).replace("{batch}", batch) + " order by 2")
            assert [r[0] for r in cur.fetchall()] == ids[1:3]
