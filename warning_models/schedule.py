"""How an Airflow run maps to a business date.

The daily DAG runs at 06:00 UTC on day D+1 for business date D: its timetable gives each run a one-day data
interval [D 06:00, D+1 06:00) and the business date is the UTC date of the interval's start. A manual run
(`airflow dags test ews_daily 2025-03-02T06:00:00+00:00`) gets the same interval, so it processes 2025-03-01.
"""

from __future__ import annotations

import datetime as dt

RUN_HOUR_UTC = 6
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
