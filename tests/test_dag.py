"""The DAG folder imports cleanly, reads like configuration, and maps runs to business dates as documented."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from warning_models.contract import SOURCE_ORDER, UPSTREAM
from warning_models.schedule import business_date_for, logical_date_for

DAGS = Path(__file__).resolve().parents[1] / "dags"


@pytest.fixture(scope="module")
def dagbag(dbt_target: Path):  # type: ignore[no-untyped-def]
    os.environ["EWS_DBT_TARGET_DIR"] = str(dbt_target)
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS))  # examples are off: AIRFLOW__CORE__LOAD_EXAMPLES=False


def test_no_import_errors(dagbag) -> None:  # type: ignore[no-untyped-def]
    assert dagbag.import_errors == {}
    assert "ews_daily" in dagbag.dag_ids


def test_dag_is_configured_like_a_production_dag(dagbag) -> None:  # type: ignore[no-untyped-def]
    dag = dagbag.dags["ews_daily"]
    assert {"ews", "daily"} <= set(dag.tags)
    assert dag.doc_md and "business date" in dag.doc_md
    assert dag.catchup is False and dag.max_active_runs == 1
    assert dag.start_date.tzinfo is not None and dag.start_date.utcoffset() == dt.timedelta(0)
    assert all(t.owner == "risk-data-engineering" for t in dag.tasks)
    ids = set(dag.task_ids)
    assert {"migrate", "indicators", "summary", *(f"ingest.{s}" for s in SOURCE_ORDER)} <= ids
    assert any(i.startswith("dbt.fct_loan_days") for i in ids), "the dbt marts are rendered as Cosmos tasks"
    # order: ingest -> dbt (every root model of the group) -> indicators -> summary
    dbt_ids = {t.task_id for t in dag.tasks if t.task_id.startswith("dbt.")}
    roots = [t for t in dag.tasks if t.task_id in dbt_ids and not (t.upstream_task_ids & dbt_ids)]
    last_ingests = {f"ingest.{s}" for s in SOURCE_ORDER if not any(s in ups for ups in UPSTREAM.values())}
    assert roots and all(last_ingests <= t.upstream_task_ids for t in roots)  # the others come before these
    assert dag.get_task("indicators").upstream_task_ids <= dbt_ids and dag.get_task("indicators").upstream_task_ids
    assert "indicators" in dag.get_task("summary").upstream_task_ids


def test_sources_wait_for_the_sources_their_checks_read(dagbag) -> None:  # type: ignore[no-untyped-def]
    dag = dagbag.dags["ews_daily"]
    for source, upstream in UPSTREAM.items():
        assert {f"ingest.{u}" for u in upstream} <= dag.get_task(f"ingest.{source}").upstream_task_ids
    assert dag.get_task("ingest.market_price_history").upstream_task_ids == {"migrate"}  # no upstream source


def test_dag_file_has_no_top_level_io() -> None:
    text = (DAGS / "ews_daily.py").read_text()
    top_level = [line for line in text.splitlines() if line and not line.startswith((" ", "#", '"', "'", ")"))]
    forbidden = ("connect(", "warehouse_url(", "Variable.get", "open(", "read_text(", "migrate(")
    assert not [line for line in top_level if any(f in line for f in forbidden)]


def test_a_run_processes_the_day_its_data_interval_starts_on() -> None:
    run_at = dt.datetime(2025, 3, 2, 6, tzinfo=dt.UTC)
    assert business_date_for(run_at - dt.timedelta(days=1)) == dt.date(2025, 3, 1)
    assert logical_date_for(dt.date(2025, 3, 1)) == run_at
    with pytest.raises(ValueError):
        business_date_for(dt.datetime(2025, 3, 1))


def test_the_timetable_gives_manual_runs_a_one_day_interval(dagbag) -> None:  # type: ignore[no-untyped-def]
    import pendulum

    dag = dagbag.dags["ews_daily"]
    interval = dag.timetable.infer_manual_data_interval(run_after=pendulum.datetime(2025, 3, 2, 6, tz="UTC"))
    assert business_date_for(interval.start) == dt.date(2025, 3, 1)
