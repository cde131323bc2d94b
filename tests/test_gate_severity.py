"""Severity is configuration: block quarantines, warn passes with a data-quality alert, off leaves a check out;
and a correction that fails the gate never costs the day its good batch."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import psycopg2
import pytest

from expectations import Severity, build_suite, load_gate_config
from warning_models.errors import ConfigError
from warning_models.gate import gate_batch, gate_batches
from warning_models.loader import load_file

DAY = dt.date(2025, 3, 3)
HEADER = "instrument_id,price_date,close_price\n"


def _config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "gate.toml"
    path.write_text(text)
    return path


def _load(url: str, path: Path, body: str) -> str:
    path.write_text(HEADER + body)
    with psycopg2.connect(url) as conn:
        return load_file(conn, "market_prices", DAY, path).batch_id


def _one(url: str, sql: str, *params: object) -> tuple:
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchone()


def test_the_shipped_configuration_blocks_structure_and_warns_on_drift() -> None:
    config = load_gate_config()
    assert config.severity("loans", "orphan_keys") is Severity.BLOCK
    assert config.severity("market_prices", "price_jump") is Severity.BLOCK
    assert config.severity("access_events", "row_count_drift") is Severity.WARN
    assert config.severity("repayments", "row_count_drift") is Severity.OFF  # source-specific key wins
    assert config.severity("borrowers", "a_check_nobody_named") is Severity.BLOCK


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('[severity]\nprice_jump = "ignore"\n', "not block, warn or off"),
        ("[thresholds]\nstale_days = 3\n", "unknown threshold"),
        ("[thresholds]\ndrift_z = -1\n", "must be a number >= 0"),
        ("[severity\n", "gate.toml"),
        ("[alerts]\n", "unknown section"),
    ],
)
def test_a_bad_configuration_is_a_clear_error(tmp_path: Path, text: str, words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        load_gate_config(_config(tmp_path, text))


def test_off_leaves_a_check_out_of_the_suite(tmp_path: Path) -> None:
    config = load_gate_config(_config(tmp_path, '[severity]\n"market_prices.price_jump" = "off"\n'))
    batches = ["market_prices:2025-03-03:0123456789ab"]
    checks = {e.meta["check"] for e in build_suite("market_prices", batches, config).expectations}
    assert "price_jump" not in checks and "stale_price" in checks
    assert "price_jump" in {e.meta["check"] for e in build_suite("market_prices", batches, load_gate_config()).expectations}


def test_a_warn_failure_passes_the_batch_and_raises_a_data_quality_alert(warehouse: str, tmp_path: Path) -> None:
    config = load_gate_config(_config(tmp_path, '[severity]\nvalue_range = "warn"\n'))
    batch = _load(warehouse, tmp_path / "p.csv", "EQ01,2025-03-03,10\nEQ02,2025-03-03,-4\n")
    with psycopg2.connect(warehouse) as conn:
        [result] = gate_batches(conn, warehouse, [batch], config)
    assert result.passed and [w["check"] for w in result.warnings] == ["value_range"]
    assert _one(warehouse, "select status from audit.batches where batch_id = %s", batch) == ("passed",)
    severity, explanation = _one(
        warehouse, "select severity, explanation from warning.alerts where domain = 'data_quality' and entity_id = %s", batch
    )
    assert severity == "medium" and "p.csv, line(s) 3" in explanation and "rule value_range" in explanation
    assert _one(warehouse, "select severity from audit.dq_results where batch_id = %s and not success", batch) == ("warn",)


def test_a_block_failure_raises_a_high_alert_too(warehouse: str, tmp_path: Path) -> None:
    batch = _load(warehouse, tmp_path / "p.csv", "EQ01,2025-03-03,-4\n")
    with psycopg2.connect(warehouse) as conn:
        assert not gate_batch(conn, warehouse, batch).passed
    assert _one(warehouse, "select severity from warning.alerts where entity_id = %s", batch) == ("high",)
    assert _one(warehouse, "select action, acted_by from quarantine.actions where batch_id = %s", batch) == ("quarantined", "gate")


def test_a_failing_correction_leaves_the_good_batch_live_and_a_passing_one_supersedes_it(warehouse: str, tmp_path: Path) -> None:
    good = _load(warehouse, tmp_path / "a.csv", "EQ01,2025-03-03,10\n")
    with psycopg2.connect(warehouse) as conn:
        assert gate_batch(conn, warehouse, good).passed
        bad = _load(warehouse, tmp_path / "b.csv", "EQ01,2025-03-03,-10\n")
        assert _one(warehouse, "select count(*) from raw.market_prices")[0] == 2  # both wait side by side
        assert not gate_batch(conn, warehouse, bad).passed
        assert _one(warehouse, "select status from audit.batches where batch_id = %s", good) == ("passed",)
        assert _one(warehouse, "select sum(close_price) from raw.market_prices") == (10,)
        fixed = _load(warehouse, tmp_path / "c.csv", "EQ01,2025-03-03,11\n")
        assert gate_batch(conn, warehouse, fixed).passed
    assert _one(warehouse, "select status from audit.batches where batch_id = %s", good) == ("superseded",)
    assert _one(warehouse, "select sum(close_price) from raw.market_prices") == (11,)


def test_data_docs_are_built_and_never_call_out(warehouse: str, tmp_path: Path) -> None:
    import re

    batch = _load(warehouse, tmp_path / "p.csv", "EQ01,2025-03-03,-4\n")
    with psycopg2.connect(warehouse) as conn:
        gate_batch(conn, warehouse, batch, gx_home=tmp_path / "gx")
    site = tmp_path / "gx" / "data_docs"
    assert "raw_market_prices" in (site / "index.html").read_text()
    plain = (site / "ews_index.html").read_text()
    assert "market_prices 2025-03-03" in plain and "failed: " in plain and "value_range" in plain
    pages = list(site.rglob("*.html"))
    external = [p for p in pages if re.search(r'<(script|link|img)[^>]*(src|href)="https?://', p.read_text())]
    assert len(pages) >= 3 and external == []



def test_data_docs_render_each_validation_once(warehouse: str, tmp_path: Path) -> None:
    """A day's gate renders its own results' pages, not the history's again (that grew with every run); the
    index pages list them all."""
    gx_home = tmp_path / "gx"
    with psycopg2.connect(warehouse) as conn:
        gate_batch(conn, warehouse, _load(warehouse, tmp_path / "p.csv", "EQ01,2025-03-03,10\n"), gx_home=gx_home)
    validations = gx_home / "data_docs" / "validations"
    first = {p: p.stat().st_mtime_ns for p in validations.rglob("*.html")}
    assert len(first) == 1
    next_day = tmp_path / "q.csv"
    next_day.write_text(HEADER + "EQ01,2025-03-04,11\n")
    with psycopg2.connect(warehouse) as conn:
        gate_batch(conn, warehouse, load_file(conn, "market_prices", DAY + dt.timedelta(days=1), next_day).batch_id,
                   gx_home=gx_home)
    pages = {p: p.stat().st_mtime_ns for p in validations.rglob("*.html")}
    assert len(pages) == 2 and all(pages[p] == first[p] for p in first)  # the first page was not rendered again
    for index in ("index.html", "ews_index.html"):
        text = (gx_home / "data_docs" / index).read_text()
        assert "2025-03-03" in text and "2025-03-04" in text, index

def test_batches_validated_together_are_judged_one_by_one_when_gx_returns_too_few_rows(warehouse: str, tmp_path: Path) -> None:
    first, second = DAY, DAY + dt.timedelta(days=1)
    bodies = {  # loaded in this order, so the second day's 40 bad rows come first and fill what GX returns
        second: "".join(f"EQ{i:02d},{second},-1\n" for i in range(40)),
        first: "".join(f"EQ{i:02d},{first},5\n" for i in range(1, 40)) + f"EQ00,{first},-1\n",
    }
    ids = {}
    with psycopg2.connect(warehouse) as conn:
        for day, body in bodies.items():
            path = tmp_path / f"{day}.csv"
            path.write_text(HEADER + body)
            ids[day] = load_file(conn, "market_prices", day, path).batch_id
        results = {r.batch_id: r for r in gate_batches(conn, warehouse, list(ids.values()))}
    assert not results[ids[second]].passed
    assert not results[ids[first]].passed, "the first day's one bad row was cut off by GX and went unnoticed"
    assert [e["line"] for f in results[ids[first]].failures for e in f["examples"]] == [41]


def test_two_rules_of_one_kind_failing_on_one_batch_are_two_alerts(warehouse: str, tmp_path: Path) -> None:
    header = "borrower_id,institution_id,full_name,national_id,birth_date,region,segment,annual_income_amount,onboarded_date\n"
    path = tmp_path / "b.csv"
    path.write_text(header + "B1,I1,Ann,N1,2026-01-01,North,retail,1,2026-01-01\n")  # both dates after 2025-03-03
    with psycopg2.connect(warehouse) as conn:
        batch = load_file(conn, "borrowers", DAY, path).batch_id
        result = gate_batch(conn, warehouse, batch)
    assert sorted(f["column"] for f in result.failures) == ["birth_date", "onboarded_date"]
    assert _one(warehouse, "select count(*) from warning.alerts where entity_id = %s", batch) == (2,)


@pytest.mark.parametrize("control", ['{"row_count": true}', '{"row_count": 1, "sums": {"close_price": "1_0"}}', "[1]"])
def test_a_malformed_control_file_rejects_the_batch(warehouse: str, tmp_path: Path, control: str) -> None:
    path = tmp_path / f"{DAY}.csv"
    path.write_text(HEADER + "EQ01,2025-03-03,10\n")
    (tmp_path / f"{DAY}.ctl.json").write_text(control)
    with psycopg2.connect(warehouse) as conn:
        loaded = load_file(conn, "market_prices", DAY, path)
    assert loaded.error is not None and loaded.error.rule.value == "control_file"
