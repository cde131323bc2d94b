"""The trailing baseline leaves quarantined days out (Elementary #1560, #980): a run of rejected batches must not
become the new normal that the next good batch is judged against."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import psycopg2

from warning_models.gate import gate_batches
from warning_models.loader import load_file

HEADER = "event_id,event_at,user_id,client_ip,action,object_name,rows_read\n"
MONDAY = dt.date(2025, 3, 3)


def _weekdays(n: int) -> list[dt.date]:
    days, day = [], MONDAY
    while len(days) < n:
        if day.weekday() < 5:
            days.append(day)
        day += dt.timedelta(days=1)
    return days


def _events(day: dt.date, n: int) -> str:
    return "".join(
        f"E{day:%m%d}{i:05d},{day}T09:{i % 60:02d}:00+00:00,U{i % 20:03d},10.0.0.{i % 20},select,core.loans,{i % 7}\n"
        for i in range(n)
    )


def test_a_run_of_quarantined_days_does_not_shift_the_baseline(warehouse: str, tmp_path: Path) -> None:
    days = _weekdays(8 + 9 + 1)
    sizes = [100] * 8 + [1000] * 9 + [100]  # 8 normal days, 9 tenfold files (rejected), then a normal day
    ids = []
    with psycopg2.connect(warehouse) as conn:
        for day, size in zip(days, sizes):
            path = tmp_path / f"{day}.csv"
            path.write_text(HEADER + _events(day, size))
            ids.append(load_file(conn, "access_events", day, path).batch_id)
        results = gate_batches(conn, warehouse, ids)
    verdicts = [(r.passed, sorted({f["check"] for f in r.failures})) for r in results]
    assert verdicts[:8] == [(True, [])] * 8
    assert verdicts[8:17] == [(False, ["row_count_collapse"])] * 9  # each judged against the 8 normal days only
    assert verdicts[17] == (True, [])  # had the rejected days counted, 100 rows would look like a collapse
