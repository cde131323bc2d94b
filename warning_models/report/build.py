"""Write the daily report of a business date: ``<out>/index.html`` and its charts beside it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import psycopg2.extensions

from warning_models.report.data import collect
from warning_models.report.page import render
from warning_models.report.plots import series_chart, var_chart


def report_dir(home: Path, day: dt.date) -> Path:
    return home / "reports" / day.isoformat()


def write_report(conn: psycopg2.extensions.connection, day: dt.date, out: Path) -> Path:
    """Collect what the warehouse knew on ``day``, draw the charts, write the page; the page's path."""
    data = collect(conn, day)
    out.mkdir(parents=True, exist_ok=True)
    charts: dict[str, str] = {}
    for series in data.series:
        if series.dates:
            charts[series.spec.key] = series_chart(series, out / f"{series.spec.key}.png").name
    if data.var_points:
        charts["market_var"] = var_chart(data, out / "market_var.png").name
    page = out / "index.html"
    page.write_text(render(data, charts), encoding="utf-8")
    return page
