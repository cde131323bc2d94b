"""The incremental dbt models equal a full build, whatever order the batches come in.

A warehouse is built day by day (each run incremental) through what a bank's days bring: plain new days, a day's
access events corrected a week later, a loan delivered again with a revised attribute, a repayments file rejected
and then delivered right. After every run each incremental model is compared with what `dbt build --full-refresh`
makes of the same batches, column by column and row by row.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import psycopg2
import pytest

from tests.conftest import START, settings_for
from warning_models.config import Settings
from warning_models.contract import landing_path
from warning_models.pipeline import gate_loaded, load_days
from warning_models.roles import JobRole, job_url
from warning_models.transform import run_dbt
from warning_models.warehouse import connect

# The incremental models and what they are built on and feed (tests are other modules' business).
MODELS = ["--select", "+fct_loan_days+", "+fct_user_days+", "+fct_access_sessions+", "+fct_user_hours+",
          "+fct_instrument_returns+"]
NO_TESTS = ["--exclude-resource-type", "test", "unit_test"]


def _incremental_models(url: str) -> list[str]:
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("select distinct model_name from audit.model_batches order by 1")
        return [r[0] for r in cur.fetchall()]


def _fingerprints(url: str, models: list[str]) -> dict[str, tuple[int, str]]:
    """Each model's row count and the md5 of its rows in a fixed order."""
    out = {}
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        for model in models:
            cur.execute(
                "select table_schema from information_schema.tables where table_name = %s", (model,)
            )
            (schema,) = cur.fetchone()
            cur.execute(
                f'select count(*), md5(coalesce(string_agg(t::text, chr(10) order by t::text), \'\')) '
                f'from "{schema}"."{model}" as t'
            )
            out[model] = cur.fetchone()
    return out


class Warehouse:
    """A warehouse fed from a landing folder of our own: the small bank's files, and the ones a test rewrites."""

    def __init__(self, url: str, bank_home: Path, home: Path) -> None:
        self.url, self.bank_landing = url, bank_home / "landing"
        self.settings: Settings = settings_for(home, url)
        for path in self.bank_landing.rglob("*.csv"):  # the bank's files, by link (control totals included)
            target = self.settings.landing_dir / path.relative_to(self.bank_landing)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(path)
            if path.with_suffix(".ctl.json").exists():
                target.with_suffix(".ctl.json").symlink_to(path.with_suffix(".ctl.json"))

    def rewrite(self, source: str, day: dt.date, edit) -> None:  # type: ignore[no-untyped-def]
        """Deliver the day's file again, changed by ``edit`` (lines in, lines out), without control totals."""
        path = landing_path(self.settings.landing_dir, source, day)
        lines = (self.bank_landing / source / path.name).read_text().splitlines()
        path.unlink()
        path.with_suffix(".ctl.json").unlink(missing_ok=True)
        path.write_text("\n".join(edit(lines)) + "\n")

    def ingest(self, *days: dt.date) -> list[str]:
        """Load and gate the days (as the loader); the batches held back."""
        loader = job_url(self.url, JobRole.LOADER)
        with connect(loader) as conn:
            reports = gate_loaded(conn, loader, self.settings, load_days(conn, self.settings, list(days)))
        return [q for r in reports for q in r.quarantined]

    def build(self, *extra: str) -> None:
        run_dbt(["build", *MODELS, *NO_TESTS, *extra], self.url, self.settings)


@pytest.fixture(scope="module")
def history(small_bank: Path, make_database, tmp_path_factory: pytest.TempPathFactory) -> Warehouse:  # type: ignore[no-untyped-def]
    warehouse = Warehouse(make_database(), small_bank, tmp_path_factory.mktemp("incremental"))
    first_days = [START + dt.timedelta(days=i) for i in range(35)]
    assert warehouse.ingest(*first_days) == []
    run_dbt(["build", *NO_TESTS], warehouse.url, warehouse.settings)  # everything, a full build of every model
    return warehouse


def _assert_equal_to_full_build(warehouse: Warehouse) -> dict[str, tuple[int, str]]:
    models = _incremental_models(warehouse.url)
    incremental = _fingerprints(warehouse.url, models)
    warehouse.build("--full-refresh")
    full = _fingerprints(warehouse.url, models)
    assert {m: v for m, v in incremental.items() if v != full[m]} == {}
    return full


DAY = START + dt.timedelta(days=35)


@pytest.mark.slow
def test_daily_runs_equal_a_full_build(history: Warehouse) -> None:
    models = _incremental_models(history.url)
    assert {"fct_loan_days", "fct_borrower_months", "fct_credit_vintages", "int_access_events_sessionized",
            "fct_user_days", "fct_access_sessions", "int_access_client_ips_first_seen", "fct_instrument_returns"} <= set(models)
    before = _fingerprints(history.url, models)
    for day in (DAY, DAY + dt.timedelta(days=1)):
        assert history.ingest(day) == []
        history.build()
    after = _assert_equal_to_full_build(history)
    assert after["fct_loan_days"][0] > before["fct_loan_days"][0]  # the days were added ...
    history.build()
    assert _fingerprints(history.url, models) == after  # ... and a rerun changes nothing


@pytest.mark.slow
def test_corrections_revisions_and_replays_equal_a_full_build(history: Warehouse) -> None:
    """A week-old day corrected, a loan revised, a rejected file delivered right: each rebuilds what it touches."""
    day = DAY + dt.timedelta(days=2)
    corrected = DAY - dt.timedelta(days=6)
    assert history.ingest(DAY, DAY + dt.timedelta(days=1)) == []  # (done already when the module runs whole)

    def move_to_a_new_ip(lines: list[str]) -> list[str]:
        # the first event of the day from an IP its user never used: a new IP and network on that old day
        fields = lines[1].split(",")
        fields[3] = "192.0.2.7"
        return [lines[0], ",".join(fields), *lines[2:]]

    history.rewrite("access_events", corrected, move_to_a_new_ip)

    revised_loan = (history.bank_landing / "loans" / f"{START.isoformat()}.csv").read_text().splitlines()[1]
    product_at = revised_loan.split(",")
    product_at[2] = "auto" if product_at[2] != "auto" else "personal"

    def revise_a_loan(lines: list[str]) -> list[str]:
        return [*lines, ",".join(product_at)]

    history.rewrite("loans", day, revise_a_loan)

    def break_a_timestamp(lines: list[str]) -> list[str]:
        fields = lines[1].split(",")
        fields[1] = "yesterday"
        return [lines[0], ",".join(fields), *lines[2:]]

    history.rewrite("access_events", day, break_a_timestamp)

    # a week-old close corrected: the returns and their windows are rebuilt from that trading day on
    market_day = max(d for d in (corrected - dt.timedelta(days=i) for i in range(7))
                     if (history.bank_landing / "market_prices" / f"{d.isoformat()}.csv").exists())
    history.rewrite("market_prices", market_day, _raise_the_first_close)

    held = history.ingest(corrected, day, market_day)
    assert len(held) == 1 and held[0].startswith("access_events")  # the correction and the revision pass
    history.build()
    with psycopg2.connect(history.url) as conn, conn.cursor() as cur:
        # the revised attribute is on every day of the loan, and the models built on the loan days were told
        cur.execute(
            "select count(*), count(*) filter (where product = %s) from marts.fct_loan_days where loan_id = %s",
            (product_at[2], product_at[0]),
        )
        days, revised = cur.fetchone()
        cur.execute(
            "select model_name, business_date from audit.model_batches where batch_id like 'revised:%%' order by 1"
        )
        revisions = cur.fetchall()
    assert days > 30 and revised == days
    assert ("fct_loan_days", START) in revisions and ("fct_credit_vintages", START) in revisions
    assert f"price_date >= date '{market_day.isoformat()}'" in _instrument_returns_test_sql(history)
    _assert_equal_to_full_build(history)

    # the right access file comes
    path = landing_path(history.settings.landing_dir, "access_events", day)
    path.unlink()
    shutil.copy(history.bank_landing / "access_events" / path.name, path)
    assert history.ingest(day) == []
    history.build()
    _assert_equal_to_full_build(history)

    # the price history delivered again, one close changed: every day is rebuilt (full_rebuild_sources)
    with psycopg2.connect(history.url) as conn, conn.cursor() as cur:
        cur.execute("select count(*), sum(log_return) from marts.fct_instrument_returns")
        returns_before = cur.fetchone()
    history.rewrite("market_price_history", START, _raise_the_first_close)
    assert history.ingest(START) == []
    history.build()
    with psycopg2.connect(history.url) as conn, conn.cursor() as cur:
        cur.execute("select count(*), sum(log_return) from marts.fct_instrument_returns")
        returns_after = cur.fetchone()
    assert returns_after[0] == returns_before[0] and returns_after[1] != returns_before[1]
    assert "price_date" not in _instrument_returns_test_sql(history)  # every row rebuilt, every row tested
    _assert_equal_to_full_build(history)


def _instrument_returns_test_sql(history: Warehouse) -> str:
    """The SQL of a generic test of fct_instrument_returns, as compiled after its latest build."""
    run_dbt(["test", "--select", "not_null_fct_instrument_returns_instrument_day_key"], history.url, history.settings)
    compiled = history.settings.dbt_target_dir / "compiled" / "ews" / "models" / "marts" / "market"
    return (compiled / "_marts__market.yml" / "not_null_fct_instrument_returns_instrument_day_key.sql").read_text()


def _raise_the_first_close(lines: list[str]) -> list[str]:
    """A price file with its first close 1 % higher (instrument_id,price_date,close_price)."""
    fields = lines[1].split(",")
    fields[2] = f"{float(fields[2]) * 1.01:.4f}"
    return [lines[0], ",".join(fields), *lines[2:]]


@pytest.mark.slow
def test_history_tests_check_the_built_months_not_the_month_they_read(history: Warehouse) -> None:
    """The streak test reads the month before the built ones for its streak and checks only the built ones: a
    streak that ran into that month from further back is no failure, a wrong streak in a built month is."""
    from warning_models.errors import TransformError

    assert history.ingest(*(DAY + dt.timedelta(days=i) for i in range(4))) == []  # (some done when run whole)
    history.build()  # the latest build of fct_borrower_months: the day's month (DAY's), the month before read
    built, before = DAY.replace(day=1), (DAY.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    with psycopg2.connect(history.url) as conn, conn.cursor() as cur:
        cur.execute(
            """select borrower_id from marts.fct_borrower_months
               where month_start_date in (%s, %s) and missed_payments_count > 0
               group by borrower_id having count(*) = 2 order by borrower_id limit 1""",
            (before, built),
        )
        (borrower,) = cur.fetchone()

        def shift_streak(month: dt.date, by: int) -> None:
            cur.execute(
                """update marts.fct_borrower_months set missed_payment_streak_months = missed_payment_streak_months + %s
                   where borrower_id = %s and month_start_date = %s""",
                (by, borrower, month),
            )
            conn.commit()

        test = ["test", "--select", "assert_missed_payment_streak_continues_month_to_month"]
        # as if the borrower had missed an instalment the month before too: both streaks one longer, consistent
        shift_streak(before, 1)
        shift_streak(built, 1)
        run_dbt(test, history.url, history.settings)
        shift_streak(built, 4)  # a built month whose streak does not continue the month before
        with pytest.raises(TransformError, match="assert_missed_payment_streak_continues_month_to_month"):
            run_dbt(test, history.url, history.settings)
        shift_streak(built, -5)
        shift_streak(before, -1)


@pytest.mark.slow
def test_planner_statistics_follow_the_gate_and_the_builds(history: Warehouse) -> None:
    """With autovacuum off (CI's server), the gate's decisions and the models' builds still leave statistics the
    planner can use: the passed batches of a source as many as there are, each built table counted."""
    with psycopg2.connect(history.url) as conn, conn.cursor() as cur:
        cur.execute("select count(*) from audit.batches where source = 'loan_performance' and status = 'passed'")
        (passed,) = cur.fetchone()
        cur.execute(
            "explain (format json) select * from audit.batches where source = 'loan_performance' and status = 'passed'"
        )
        estimated = cur.fetchone()[0][0]["Plan"]["Plan Rows"]
        assert passed >= 35 and abs(estimated - passed) <= 0.2 * passed
        for table in ("marts.fct_loan_days", "intermediate.int_access_events_sessionized", "marts.dim_loans"):
            cur.execute(f"select count(*), (select reltuples from pg_class where oid = '{table}'::regclass) from {table}")
            rows, reltuples = cur.fetchone()
            assert rows > 0 and abs(reltuples - rows) <= 0.2 * rows, table
