"""An incremental model's daily read is planned for the dates it rebuilds, not for the history.

The plan of a run (macros/incremental_batches.sql) is a temporary table the model's SQL reads when it runs, so the
planner cannot know its start: `date >= (select min(...) from plan)` alone it takes for a third of the table and
reads every stored day (after 3 years at S, `fct_loan_days`' delete and `fct_borrower_months`' read each scanned
3.7 million rows for a day's 3,400). `from_planned_start` pairs the bound with an upper one, which the planner
counts as a narrow range and reads by the date's index; and the plan's dates are read as an array, not an `in`
subquery (a semi-join planned for a share of the history)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jinja2
import psycopg2

from tests.query_plans import plan_nodes

DBT_PROJECT = Path(__file__).resolve().parents[1] / "dbt_project"
MACROS = DBT_PROJECT / "macros" / "incremental_batches.sql"


class _Config:
    def get(self, key: str, default: Any = None) -> Any:
        return default


class _This:
    identifier = "loan_days"


def _macros() -> Any:
    env = jinja2.Environment(extensions=["jinja2.ext.do"])
    template = env.from_string(MACROS.read_text(), globals={"config": _Config(), "this": _This()})
    return template.module



def _scans(cur: Any, where: str) -> list[dict[str, Any]]:
    cur.execute(f"explain (format json) select * from loan_days where {where}")
    return [n for n in plan_nodes(cur.fetchone()[0][0]["Plan"]) if n.get("Relation Name") == "loan_days"]


def test_a_read_from_the_planned_start_is_planned_as_the_days_it_reads(make_database: Callable[[], str]) -> None:
    with psycopg2.connect(make_database()) as conn, conn.cursor() as cur:
        # a history of 1,000 business dates of 300 loans; the plan rebuilds the latest date
        cur.execute("""
            create table loan_days as
            select date '2023-01-01' + day as performance_date, loan_id
            from generate_series(0, 999) as day, generate_series(1, 300) as loan_id;
            create index on loan_days (performance_date);
            analyze loan_days;
            create temporary table ews_plan__loan_days as select date '2025-09-26' as business_date;
            analyze ews_plan__loan_days;
        """)
        macros = _macros()
        bare = _scans(cur, "performance_date >= " + str(macros.planned_start()))
        assert bare[0]["Plan Rows"] >= 0.3 * 300_000, bare  # the trap the macro avoids: a third of the history
        paired = _scans(cur, str(macros.from_planned_start("performance_date")))
        assert [n["Node Type"] for n in paired] in (["Index Scan"], ["Bitmap Heap Scan"]), paired
        assert paired[0]["Plan Rows"] <= 0.01 * 300_000, paired
        cur.execute(f"select count(*) from loan_days where {macros.from_planned_start('performance_date')}")
        assert cur.fetchone()[0] == 300  # the same rows as the bare bound


# Bare lower bounds that read no history: the month-end view's few rows, rows already computed, a bound paired
# with an upper one.
BARE_START_ALLOWED = {
    ("fct_credit_roll_rates.sql", "month_start_date"),
    ("int_loan_days_aggregated_to_months_on_book.sql", "new.last_performance_date"),
    ("int_access_events_sessionized.sql", "event_date"),
    ("int_access_events_sessionized.sql", "event_at"),
}


def test_no_model_reads_from_the_planned_start_or_the_planned_dates_unplanned() -> None:
    """A model that reads its source by `<date> >= planned_start()` or `<date> in planned_dates()` reads the whole
    history each day (a residual `not in` over the rows already read is harmless)."""
    bare_start = re.compile(r"([\w.]+) >= (?:cast\()*\{\{ planned_start\(")
    dates_in = re.compile(r"(?<!not )\bin \{\{ planned_dates\(")
    offenders = []
    for path in sorted((DBT_PROJECT / "models").rglob("*.sql")):
        text = path.read_text()
        offenders += [f"{path.name}: {m.group(0)}" for m in bare_start.finditer(text)
                      if (path.name, m.group(1)) not in BARE_START_ALLOWED]
        offenders += [f"{path.name}: {m.group(0)}" for m in dates_in.finditer(text)]
    assert not offenders, offenders
