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
    assert {"ews_load", "ews_model"} <= set(dagbag.dag_ids)


@pytest.mark.parametrize("dag_id", ["ews_load", "ews_model"])
def test_every_dag_is_configured_like_a_production_dag(dagbag, dag_id: str) -> None:  # type: ignore[no-untyped-def]
    from warning_models.task_failures import notify_task_failure

    dag = dagbag.dags[dag_id]
    assert {"ews", "daily"} <= set(dag.tags)
    assert dag.doc_md and "business date" in dag.doc_md and "Data Docs" in dag.doc_md and "dbt docs" in dag.doc_md
    assert dag.catchup is False and dag.max_active_runs == 1
    assert dag.start_date.tzinfo is not None and dag.start_date.utcoffset() == dt.timedelta(0)
    assert "business_date" in dag.params
    for t in dag.tasks:
        assert t.owner == "risk-data-engineering", t.task_id
        assert t.retries >= 2 and t.retry_exponential_backoff, t.task_id
        callbacks = t.on_failure_callback if isinstance(t.on_failure_callback, list) else [t.on_failure_callback]
        assert notify_task_failure in callbacks, t.task_id


def test_the_load_dag_gates_every_source_and_updates_the_asset_the_model_dag_waits_for(dagbag) -> None:  # type: ignore[no-untyped-def]
    from warning_models.schedule import GATED_BATCHES_URI

    load, model = dagbag.dags["ews_load"], dagbag.dags["ews_model"]
    ids = set(load.task_ids)
    assert {"migrate", "gated", *(f"ingest.{s}" for s in SOURCE_ORDER)} <= ids
    assert [o.uri for o in load.get_task("gated").outlets] == [GATED_BATCHES_URI]
    assert {f"ingest.{s}" for s in SOURCE_ORDER} <= load.get_task("gated").upstream_task_ids
    assert [a.uri for a in model.timetable.asset_condition.objects] == [GATED_BATCHES_URI]
    assert set(model.params["domains"]) == {"credit", "market", "macro", "access"}


def test_the_model_dag_runs_dbt_then_indicators_then_cases_then_notify_report_and_docs(dagbag) -> None:  # type: ignore[no-untyped-def]
    dag = dagbag.dags["ews_model"]
    ids = set(dag.task_ids)
    assert {"business_dates", "indicators", "alert_cases", "notify", "report", "docs"} <= ids
    assert any(i.startswith("dbt.fct_loan_days") for i in ids), "the dbt marts are rendered as Cosmos tasks"
    assert any(i.startswith("dbt.bi_alerts_current") for i in ids), "the BI views too"
    dbt_ids = {t.task_id for t in dag.tasks if t.task_id.startswith("dbt.")}
    roots = [t for t in dag.tasks if t.task_id in dbt_ids and not (t.upstream_task_ids & dbt_ids)]
    # dbt needs no list of days: it starts with the run, the indicators wait for it and for business_dates
    assert roots and all(not t.upstream_task_ids for t in roots)
    assert "business_dates" in dag.get_task("indicators").upstream_task_ids
    # one `dbt build` per model (its tests with it), no unit tests and no history-wide tests in the daily run
    build = dag.get_task("dbt.fct_loan_days_model_build")
    assert "--exclude-resource-type" in build.dbt_cmd_flags and "unit_test" in build.dbt_cmd_flags
    assert not [i for i in dbt_ids if "assert_vintages_reconcile_to_loan_days" in i]
    assert dag.get_task("indicators").upstream_task_ids & dbt_ids
    # the connection reaches dbt through the worker's environment: nothing secret rendered into the operators
    for task_id in dbt_ids:
        assert not any("PASSWORD" in key or "KEY" in key for key in (getattr(dag.get_task(task_id), "env", None) or {}))
    # the instruments' VaR in shards after the domains' indicators, mapped over the workers, before the cases
    assert "indicators" in dag.get_task("market_instruments").upstream_task_ids
    assert "market_instruments" in dag.get_task("alert_cases").upstream_task_ids
    for task_id in ("notify", "report"):
        assert "alert_cases" in dag.get_task(task_id).upstream_task_ids, task_id
    # the docs sites after the day's report, not beside it on the same cores
    assert dag.get_task("docs").upstream_task_ids == {"business_dates", "report"}


def test_the_model_dag_can_run_dbt_as_one_build_task(dbt_target: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow.dag_processing.dagbag import DagBag

    from warning_models.transform import DAILY_BUILD

    monkeypatch.setenv("EWS_DBT_TARGET_DIR", str(dbt_target))
    monkeypatch.setenv("EWS_DBT_EXECUTION_MODE", "build")
    dag = DagBag(dag_folder=str(DAGS / "ews_model.py")).dags["ews_model"]
    assert not [t for t in dag.task_ids if t.startswith("dbt.")]
    build = dag.get_task("dbt_build")
    assert type(build).__name__ == "DbtBuildLocalOperator"
    # the CLI's daily build, reading and updating the CLI's target folder (its partial parse), as `ews run` does
    assert ["build", *build.dbt_cmd_flags] == [*DAILY_BUILD, "--target-path", str(dbt_target)]
    assert "unit_test" in build.dbt_cmd_flags and not build.should_store_compiled_sql
    assert not build.upstream_task_ids and "indicators" in build.downstream_task_ids


def test_sources_wait_for_the_sources_their_checks_read(dagbag) -> None:  # type: ignore[no-untyped-def]
    dag = dagbag.dags["ews_load"]
    for source, upstream in UPSTREAM.items():
        assert {f"ingest.{u}" for u in upstream} <= dag.get_task(f"ingest.{source}").upstream_task_ids
    assert dag.get_task("ingest.market_price_history").upstream_task_ids == {"migrate"}  # no upstream source


@pytest.mark.parametrize("name", ["ews_load.py", "ews_model.py"])
def test_dag_files_have_no_top_level_io(name: str) -> None:
    text = (DAGS / name).read_text()
    top_level = [line for line in text.splitlines() if line and not line.startswith((" ", "#", '"', "'", ")"))]
    forbidden = ("connect(", "warehouse_url(", "Variable.get", "open(", "read_text(", "migrate(")
    assert not [line for line in top_level if any(f in line for f in forbidden)]


def test_the_model_dag_takes_its_days_from_the_param_or_every_gated_event() -> None:
    from warning_models.schedule import business_date_of_run, business_dates_of_model_run

    events = [{"business_date": "2025-03-03"}, {"business_date": "2025-03-01"}, {"business_date": "2025-03-03"}, {}]
    # several load runs before the model run (a backfill): every day, oldest first, once
    assert business_dates_of_model_run(None, events) == [dt.date(2025, 3, 1), dt.date(2025, 3, 3)]
    assert business_dates_of_model_run("2025-02-01", events) == [dt.date(2025, 2, 1)]
    with pytest.raises(ValueError, match="business_date param"):
        business_dates_of_model_run(None, [{}])
    assert business_date_of_run("2025-02-01", None) == dt.date(2025, 2, 1)
    assert business_date_of_run(None, dt.datetime(2025, 3, 1, 6, tzinfo=dt.UTC)) == dt.date(2025, 3, 1)


def test_a_run_processes_the_day_its_data_interval_starts_on() -> None:
    run_at = dt.datetime(2025, 3, 2, 6, tzinfo=dt.UTC)
    assert business_date_for(run_at - dt.timedelta(days=1)) == dt.date(2025, 3, 1)
    assert logical_date_for(dt.date(2025, 3, 1)) == run_at
    with pytest.raises(ValueError):
        business_date_for(dt.datetime(2025, 3, 1))


def test_the_timetable_gives_manual_runs_a_one_day_interval(dagbag) -> None:  # type: ignore[no-untyped-def]
    import pendulum

    dag = dagbag.dags["ews_load"]
    interval = dag.timetable.infer_manual_data_interval(run_after=pendulum.datetime(2025, 3, 2, 6, tz="UTC"))
    assert business_date_for(interval.start) == dt.date(2025, 3, 1)
