"""What the daily build leaves out runs here: dbt's unit tests of the SQL logic, and the tests that re-read the
whole history (on the small bank's warehouse, after its pipeline ran)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import settings_for
from warning_models.transform import HISTORY_TESTS, run_dbt


def _results(settings) -> list[dict]:  # type: ignore[no-untyped-def]
    return json.loads((settings.dbt_target_dir / "run_results.json").read_text())["results"]


@pytest.mark.slow
def test_dbt_unit_tests_and_history_tests_pass(bank_run: tuple[str, Path, list], tmp_path: Path) -> None:  # type: ignore[type-arg]
    url, home, _ = bank_run
    settings = settings_for(home, url).with_overrides(dbt_target_dir=tmp_path / "target")
    run_dbt(["test", "--select", "test_type:unit"], url, settings)
    unit = [r for r in _results(settings) if r["unique_id"].startswith("unit_test.")]
    assert len(unit) >= 20 and {r["status"] for r in unit} == {"pass"}
    assert any("folds_a_day" in r["unique_id"] for r in unit)  # the incremental path of a model, unit-tested
    run_dbt(["test", "--select", "tag:history", *HISTORY_TESTS], url, settings)
    history = _results(settings)
    assert sorted(r["unique_id"].split(".")[2] for r in history) == [
        "assert_staging_reads_only_passed_batches", "assert_vintages_reconcile_to_loan_days"
    ]
    assert {r["status"] for r in history} == {"pass"}
