"""ews_model's catch-up: the days ews_load gated after the last modelled day join the run's days, so a day whose
asset event started no run (Airflow issue #56050: an event arriving while the DAG is at max_active_runs) is
modelled by the next run, in date order."""

from __future__ import annotations

import datetime as dt

from warning_models.pipeline import gated_days_not_modelled, record_gated_day
from warning_models.roles import JobRole, job_url
from warning_models.schedule import business_dates_of_model_run
from warning_models.warehouse import connect

D = dt.date(2025, 4, 1)


def _fitted(conn, as_of: dt.date) -> None:  # type: ignore[no-untyped-def]
    with conn.cursor() as cur:
        cur.execute(
            """insert into warning.model_runs (model_run_id, indicator, domain, as_of_date, model_class, n_obs,
                                               params, fit_stats, data_hash)
               values (%s, 'credit_pd', 'credit', %s, 'Logit', 1, '{}', '{}', 'x')""",
            (f"credit_pd:{as_of}", as_of),
        )
    conn.commit()


def test_days_gated_after_the_last_modelled_one_are_caught_up(warehouse: str) -> None:
    with connect(job_url(warehouse, JobRole.LOADER)) as loader:
        for offset in range(4):
            record_gated_day(loader, f"backfill__{offset}", D + dt.timedelta(days=offset), {"held_back": []})
    with connect(job_url(warehouse, JobRole.MODELER)) as modeler:
        assert gated_days_not_modelled(modeler) == []  # a warehouse never modelled: the events decide
        _fitted(modeler, D)
        waiting = gated_days_not_modelled(modeler)
        assert waiting == [D + dt.timedelta(days=1), D + dt.timedelta(days=2), D + dt.timedelta(days=3)]
        # the run started by day 2's event models day 3 and 4 too, whose events started no run
        days = business_dates_of_model_run(None, [{"business_date": str(D + dt.timedelta(days=1))}], waiting)
        assert days == waiting
        _fitted(modeler, D + dt.timedelta(days=3))
        assert gated_days_not_modelled(modeler) == []
        # a manual run's param is the day, whatever waits
        assert business_dates_of_model_run("2025-03-01", [], waiting) == [dt.date(2025, 3, 1)]


def test_a_day_whose_gating_failed_is_not_caught_up(warehouse: str) -> None:
    with connect(job_url(warehouse, JobRole.LOADER)) as loader:
        record_gated_day(loader, "r1", D, {})
        try:
            with_failure = D + dt.timedelta(days=1)
            from warning_models.pipeline import stage

            with stage(loader, "r2", with_failure, "gated"):
                raise RuntimeError("the gated task failed")
        except RuntimeError:
            pass
    with connect(job_url(warehouse, JobRole.MODELER)) as modeler:
        _fitted(modeler, D - dt.timedelta(days=1))
        assert gated_days_not_modelled(modeler) == [D]
