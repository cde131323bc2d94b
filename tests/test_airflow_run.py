"""The Airflow DAG runs one business day end to end (`airflow dags test`) on the test warehouse, idempotently."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg2
import pytest

from tests.conftest import END
from warning_models.schedule import logical_date_for

AIRFLOW = str(Path(sys.executable).with_name("airflow"))


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
    before = {
        "alerts": _count(url, "select count(*) from warning.alerts"),
        "batches": _count(url, "select count(*) from audit.batches"),
        "loan_days": _count(url, "select count(*) from marts.fct_loan_days"),
    }
    subprocess.run([AIRFLOW, "db", "migrate"], env=env, check=True, capture_output=True, timeout=300)
    run = subprocess.run(
        [AIRFLOW, "dags", "test", "ews_daily", logical_date_for(END).isoformat()],
        env=env, capture_output=True, text=True, timeout=900,
    )
    log = run.stdout + run.stderr
    assert run.returncode == 0, log[-4000:]
    assert "state=success" in log or "DagRunState.SUCCESS" in log or "success" in log.lower()
    for task_id in ("ingest", "dbt.fct_loan_days", "indicators", "summary"):
        assert task_id in log, task_id
    after = {
        "alerts": _count(url, "select count(*) from warning.alerts"),
        "batches": _count(url, "select count(*) from audit.batches"),
        "loan_days": _count(url, "select count(*) from marts.fct_loan_days"),
    }
    assert after == before  # the day was already processed: rerunning it through Airflow changes nothing
