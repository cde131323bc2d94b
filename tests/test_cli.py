"""The `ews` command as a user runs it: exit codes, clear errors, the warehouse setting."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

EWS = str(Path(sys.executable).with_name("ews"))


def _ews(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([EWS, *args], env={**os.environ, **env}, capture_output=True, text=True, timeout=300)


def test_warehouse_url_follows_the_setting(warehouse: str, tmp_path: Path) -> None:
    done = _ews("warehouse", "url", env={"EWS_DATABASE_URL": warehouse, "EWS_HOME": str(tmp_path)})
    assert done.returncode == 0 and done.stdout.strip() == warehouse
    assert not (tmp_path / "pgdata").exists()  # no embedded server when a URL is set


def test_a_malformed_setting_is_a_clear_error(tmp_path: Path) -> None:
    done = _ews("warehouse", "url", env={"EWS_DATABASE_URL": "mysql://x@y/z", "EWS_HOME": str(tmp_path)})
    assert done.returncode == 2 and "EWS_DATABASE_URL must be a postgresql:// URL" in done.stderr


def test_evaluate_without_a_truth_file_says_what_to_do(warehouse: str, tmp_path: Path) -> None:
    done = _ews("evaluate", env={"EWS_DATABASE_URL": warehouse, "EWS_HOME": str(tmp_path)})
    assert done.returncode == 2
    assert "no truth file" in done.stderr and "ews generate" in done.stderr


def test_run_reports_a_held_back_batch_and_goes_on(warehouse: str, tmp_path: Path) -> None:
    landing = tmp_path / "landing" / "market_prices"
    landing.mkdir(parents=True)
    (landing / "2025-03-03.csv").write_text("instrument_id,price_date,close_price\nEQ01,2025-03-03,-1\n")
    done = _ews("run", "--date", "2025-03-03", "--quiet", env={"EWS_DATABASE_URL": warehouse, "EWS_HOME": str(tmp_path)})
    assert done.returncode == 0, done.stderr[-2000:]
    assert "2025-03-03: held back: market_prices (failed value_range:close_price)" in done.stdout
    assert "loan_performance (missing)" in done.stdout
