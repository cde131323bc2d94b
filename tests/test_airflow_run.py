"""The Airflow DAGs run one business day end to end (`airflow dags test`: ews_load, then ews_model for the day it
gated) on the test warehouse, idempotently."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg2
import pytest

from tests.conftest import END
from warning_models.config import load_settings
from warning_models.schedule import logical_date_for
from warning_models.transform import run_dbt

AIRFLOW = str(Path(sys.executable).with_name("airflow"))
QUERIES = {
    "alerts": "select count(*) from warning.alerts",
    "batches": "select count(*) from audit.batches",
    "loan_days": "select count(*) from marts.fct_loan_days",
    "cases": "select count(*) from warning.alert_cases",
}


def _count(url: str, sql: str) -> int:
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute(sql)
        return int(cur.fetchone()[0])


@pytest.mark.slow
def test_dags_test_runs_the_whole_day(bank_run, dbt_target: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    url, home, _ = bank_run
    env = {
        **os.environ,
        "EWS_DATABASE_URL": url,
        "EWS_HOME": str(home),
        "EWS_DBT_TARGET_DIR": str(dbt_target),
        "AIRFLOW_HOME": str(tmp_path),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{tmp_path}/airflow.db",
    }
    before = {k: _count(url, q) for k, q in QUERIES.items()}
    subprocess.run([AIRFLOW, "db", "migrate"], env=env, check=True, capture_output=True, timeout=300)
    load = subprocess.run(
        [AIRFLOW, "dags", "test", "ews_load", logical_date_for(END).isoformat()],
        env=env, capture_output=True, text=True, timeout=900,
    )
    log = load.stdout + load.stderr
    assert load.returncode == 0, log[-4000:]
    for task_id in ("ingest.loans", "ingest.access_events", "gated"):
        assert task_id in log, task_id
    # the modelling DAG for the same day, as the asset event would start it (by hand here: dags test runs one DAG)
    model = subprocess.run(
        [AIRFLOW, "dags", "test", "ews_model", "-c", json.dumps({"business_date": END.isoformat()})],
        env=env, capture_output=True, text=True, timeout=1200,
    )
    log = model.stdout + model.stderr
    assert model.returncode == 0, log[-4000:]
    for task_id in ("business_dates", "dbt.fct_loan_days", "dbt.bi_alerts_current", "indicators", "alert_cases",
                    "notify", "report", "docs"):
        assert task_id in log, task_id
    assert (home / "reports" / END.isoformat() / "index.html").is_file()
    assert (home / "dbt_docs" / "static_index.html").is_file()
    after = {k: _count(url, q) for k, q in QUERIES.items()}
    assert after == before  # the day was already processed: rerunning it through Airflow changes nothing

    # the same day with dbt as one Cosmos task (EWS_DBT_EXECUTION_MODE=build): no model task, the same state;
    # the build ran (a table model rebuilt in full each day is a new relation afterwards)
    rebuilt = "select 'marts.fct_market_index_days'::regclass::oid"
    relation = _count(url, rebuilt)
    # the target folder as `ews dbt parse` leaves it for this warehouse (the image bakes one the same way)
    build_target = tmp_path / "build_target"
    run_dbt(["parse"], url, load_settings({"EWS_HOME": str(home), "EWS_DBT_TARGET_DIR": str(build_target)}))
    one_build = subprocess.run(
        [AIRFLOW, "dags", "test", "ews_model", "-c", json.dumps({"business_date": END.isoformat()})],
        env={**env, "EWS_DBT_EXECUTION_MODE": "build", "EWS_DBT_TARGET_DIR": str(build_target)},
        capture_output=True, text=True, timeout=1200,
    )
    log = one_build.stdout + one_build.stderr
    assert one_build.returncode == 0, log[-4000:]
    assert "dbt_build" in log and "dbt.fct_loan_days" not in log
    assert _count(url, rebuilt) != relation
    # dbt parsed partially from the manifest the CLI wrote (EWS_DBT_TARGET_DIR), and wrote its results there
    assert "Found " in log and "Unable to do partial parsing" not in log, log[-4000:]
    results = json.loads((build_target / "run_results.json").read_text())["results"]
    assert any(r["unique_id"] == "model.ews.fct_market_index_days" for r in results)
    assert {k: _count(url, q) for k, q in QUERIES.items()} == before
