"""How an Airflow run maps to a business date, and how the load DAG tells the modelling DAG which day is ready.

The load DAG (ews_load) runs at 06:00 UTC on day D+1 for business date D: its timetable gives each run a one-day
data interval [D 06:00, D+1 06:00) and the business date is the UTC date of the interval's start. A manual run
(`airflow dags test ews_load 2025-03-02T06:00:00+00:00`) gets the same interval, so it processes 2025-03-01; the
param ``business_date`` overrides it. When its batches are gated it updates the asset ``GATED_BATCHES_URI`` with
the business date in the event's extra; the modelling DAG (ews_model), scheduled on that asset, models that day
(every day of the events that started it, oldest first, or the ``business_date`` param of a manual run).
"""

from __future__ import annotations

import datetime as dt

RUN_HOUR_UTC = 6
GATED_BATCHES_URI = "ews://warehouse/gated-batches"  # the load DAG's outlet, the modelling DAG's schedule
GATED_BATCHES_NAME = "ews_gated_batches"
CRON = f"0 {RUN_HOUR_UTC} * * *"
INTERVAL = dt.timedelta(days=1)


def business_date_for(data_interval_start: dt.datetime) -> dt.date:
    """The business date a run processes: the UTC date its data interval starts on."""
    if data_interval_start.tzinfo is None:
        raise ValueError("data_interval_start must be timezone-aware")
    return data_interval_start.astimezone(dt.UTC).date()


def logical_date_for(business_date: dt.date) -> dt.datetime:
    """The logical date (run time) of the run that processes a business date."""
    return dt.datetime.combine(business_date + INTERVAL, dt.time(RUN_HOUR_UTC), tzinfo=dt.UTC)


def business_date_of_run(param: str | None, data_interval_start: dt.datetime | None) -> dt.date:
    """The load DAG's business date: the ``business_date`` param of a manual run, else its data interval's."""
    if param:
        return dt.date.fromisoformat(param)
    if data_interval_start is None:
        raise ValueError("a run without a data interval needs the business_date param")
    return business_date_for(data_interval_start)


def business_dates_of_model_run(
    param: str | None, event_extras: list[dict[str, object]], waiting: list[dt.date] | None = None
) -> list[dt.date]:
    """The modelling DAG's business dates, oldest first: the param of a manual run, else every day the triggering
    gated-batches events name and every day ews_load gated after the last modelled one (``waiting``, read from the
    warehouse: an event that arrives while ews_model runs can start no run of its own, Airflow issue #56050; the
    next run models its day). Several days when ews_load ran more than once before ews_model started, as in a
    backfill: each gets its indicators, in date order."""
    if param:
        return [dt.date.fromisoformat(param)]
    dates = {dt.date.fromisoformat(str(e["business_date"])) for e in event_extras if e.get("business_date")}
    dates |= set(waiting or [])
    if not dates:
        raise ValueError("no business date: trigger ews_model with the business_date param, or let ews_load do it")
    return sorted(dates)
