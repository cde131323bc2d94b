"""The warehouse's own access as access events: a real csvlog from a temporary PostgreSQL, converted, loaded.

A throwaway server (its own data folder and port; never the shared one) logs connections and statements as
csvlog; ``ews access pg-log`` turns the log into an access_events landing file that the loader and the gate
accept like any other.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest

from warning_models.access import pg_log
from warning_models.cli import main
from warning_models.errors import PgLogError
from warning_models.gate import gate_batches
from warning_models.loader import load_file

PASSWORD = "s3cret-for-the-test"


def _bin_dir() -> Path:
    """The PostgreSQL server binaries: the system's when installed, else the ones pgserver ships."""
    system = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if system:
        return system[-1].parent
    import pgserver._commands

    return pgserver._commands.POSTGRES_BIN_PATH


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def csvlog() -> Iterator[tuple[Path, bool]]:
    """(the csvlog of a short session on a temporary server, whether auto_explain logged row counts)."""
    folder = Path(tempfile.mkdtemp(prefix="ews-test-pglog-"))
    pgdata = folder / "pgdata"
    bin_dir = _bin_dir()
    run_as: str | None = None
    if os.geteuid() == 0:  # initdb refuses root: run the server as pgserver's own system user
        from pgserver.utils import ensure_user_exists

        run_as = "pgserver"
        ensure_user_exists(run_as)
        shutil.chown(folder, run_as)
    port = _free_port()
    pkglib = subprocess.run([bin_dir / "pg_config", "--pkglibdir"], capture_output=True, text=True).stdout.strip()
    explain = bool(pkglib) and (Path(pkglib) / "auto_explain.so").is_file()

    def pg(*args: str) -> None:
        subprocess.run([str(bin_dir / args[0]), *args[1:]], check=True, capture_output=True, user=run_as, timeout=120)

    pg("initdb", "-D", str(pgdata), "-U", "postgres", "--auth=trust", "--encoding=utf8")
    settings = {
        "listen_addresses": "'127.0.0.1'", "port": str(port), "unix_socket_directories": "''",
        "logging_collector": "on", "log_destination": "'csvlog'", "log_directory": "'log'",
        "log_filename": "'server.log'", "log_timezone": "'UTC'", "log_connections": "on",
        "log_disconnections": "on", "log_statement": "'all'",
    }
    if explain:
        settings |= {"session_preload_libraries": "'auto_explain'", "auto_explain.log_min_duration": "0",
                     "auto_explain.log_analyze": "on"}
    with (pgdata / "postgresql.conf").open("a") as conf:
        conf.writelines(f"{k} = {v}\n" for k, v in settings.items())
    hba = pgdata / "pg_hba.conf"
    hba.write_text("host all analyst 127.0.0.1/32 scram-sha-256\n" + hba.read_text())
    pg("pg_ctl", "-D", str(pgdata), "-w", "-l", str(pgdata / "startup.log"), "start")
    try:
        admin = f"postgresql://postgres@127.0.0.1:{port}/postgres"
        with psycopg2.connect(admin) as conn, conn.cursor() as cur:
            cur.execute(f"create role analyst login password '{PASSWORD}'")
            cur.execute("create schema hr")
            cur.execute("create table hr.salaries (employee text, amount numeric)")
            cur.execute("insert into hr.salaries select 'e' || i, 1000 + i from generate_series(1, 40) i")
            cur.execute("grant usage on schema hr to analyst")
            cur.execute("grant select on hr.salaries to analyst")
        conn.close()
        with pytest.raises(psycopg2.OperationalError):
            psycopg2.connect(f"postgresql://analyst:wrong@127.0.0.1:{port}/postgres")
        conn = psycopg2.connect(f"postgresql://analyst:{PASSWORD}@127.0.0.1:{port}/postgres")
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("select employee, amount from hr.salaries where amount > 1010")
            cur.fetchall()
            cur.copy_expert("copy (select * from hr.salaries) to stdout with (format csv)", open(os.devnull, "w"))
            cur.execute("select 1")
        conn.close()
    finally:
        pg("pg_ctl", "-D", str(pgdata), "-w", "-m", "fast", "stop")
    log = pgdata / "log" / "server.csv"
    copy = Path(tempfile.mkdtemp(prefix="ews-test-pglog-out-")) / "server.csv"
    shutil.copy(log, copy)
    shutil.rmtree(folder, ignore_errors=True)
    yield copy, explain
    shutil.rmtree(copy.parent, ignore_errors=True)


def test_a_real_csvlog_becomes_access_events(csvlog: tuple[Path, bool]) -> None:
    path, explain = csvlog
    conversion = pg_log.convert(path)
    analyst = [(e.action, e.object_name, e.client_ip) for e in conversion.events if e.user_id == "analyst"]

    assert analyst == [
        ("login_failed", None, "127.0.0.1"),
        ("login", None, "127.0.0.1"),
        ("select", "hr.salaries", "127.0.0.1"),
        ("export", "hr.salaries", "127.0.0.1"),
    ]  # `select 1` touches no relation: left out
    admin = [(e.action, e.object_name) for e in conversion.events if e.user_id == "postgres"]
    assert ("update", "hr.salaries") in admin  # the insert
    assert len({e.event_id for e in conversion.events}) == len(conversion.events)
    assert conversion.skipped["statement naming no relation"] >= 1
    if explain:  # auto_explain's plan gave the row count of the statement logged just before it
        rows = {e.action: e.rows_read for e in conversion.events if e.user_id == "analyst"}
        assert rows["select"] == 30 and rows["export"] == 40


def test_pg_log_command_writes_landing_files_the_gate_accepts(
    csvlog: tuple[Path, bool], warehouse: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, _ = csvlog
    assert main(["access", "pg-log", str(path), "--out", str(tmp_path), "--user-prefix", "pg:"]) == 0
    files = sorted((tmp_path / "access_events").glob("*.csv"))
    assert files and "access events from" in capsys.readouterr().out
    ids = []
    with psycopg2.connect(warehouse) as conn:
        for file in files:
            ids.append(load_file(conn, "access_events", dt.date.fromisoformat(file.stem), file).batch_id)
        results = gate_batches(conn, warehouse, ids, build_docs=False)
        assert [r.passed for r in results] == [True] * len(files)
        with conn.cursor() as cur:
            cur.execute("select distinct user_id from raw.access_events order by 1")
            assert [r[0] for r in cur.fetchall()] == ["pg:analyst", "pg:postgres"]
    # a day's file exists now: converting again needs --merge, which keeps every event once
    assert main(["access", "pg-log", str(path), "--out", str(tmp_path)]) == 2
    assert main(["access", "pg-log", str(path), "--out", str(tmp_path), "--merge", "--user-prefix", "pg:"]) == 0
    assert sum(len(f.read_text().splitlines()) - 1 for f in files) == len(pg_log.convert(path).events)


AUTO_EXPLAIN_LINES = [
    # log_time, user, db, pid, from, session, line, tag, start, vxid, xid, severity, state, message, ... (26)
    ["2025-03-03 21:15:02.101 UTC", "bob", "dwh", "7", "10.99.1.7:5000", "s1", "1", "authentication",
     "2025-03-03 21:15:02 UTC", "", "0", "LOG", "00000", "connection authorized: user=bob database=dwh",
     *[""] * 12],
    ["2025-03-03 21:15:03.500 UTC", "bob", "dwh", "7", "10.99.1.7:5000", "s1", "2", "SELECT",
     "2025-03-03 21:15:02 UTC", "3/4", "0", "LOG", "00000",
     "duration: 0.050 ms  plan:\nQuery Text: SELECT * FROM Core.Customer_PII c JOIN x ON true\n"
     "Seq Scan on customer_pii c  (cost=0.00..1.00 rows=1 width=8) (actual time=0.01..0.02 rows=1234 loops=1)",
     *[""] * 12],
    ["2025-03-03 22:00:00.000 +01", "bob", "dwh", "7", "10.99.1.7:5000", "s1", "3", "COPY",
     "2025-03-03 21:15:02 UTC", "3/5", "0", "LOG", "00000", "statement: COPY hr.salaries TO STDOUT", *[""] * 12],
]


def test_auto_explain_rows_time_zones_and_copy_direction(tmp_path: Path) -> None:
    path = tmp_path / "explain.csv"
    with path.open("w", newline="") as handle:
        csv.writer(handle).writerows(AUTO_EXPLAIN_LINES)
    events = pg_log.convert(path).events

    assert [(e.action, e.object_name, e.rows_read, e.client_ip) for e in events] == [
        ("login", None, 0, "10.99.1.7"),
        ("select", "core.customer_pii", 1234, "10.99.1.7"),
        ("export", "hr.salaries", 0, "10.99.1.7"),
    ]
    assert events[2].event_at == dt.datetime(2025, 3, 3, 21, 0, tzinfo=dt.timezone.utc)  # +01 -> UTC
    assert pg_log.classify("copy hr.salaries from stdin") == "update"
    assert pg_log.relation("select * from t where x = 'from secret.table'", "public") == "public.t"


def test_malformed_csvlog_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("2025-03-03 21:15:02 UTC,bob,dwh\n")
    with pytest.raises(PgLogError, match="line 1"):
        pg_log.convert(path)
    row = list(AUTO_EXPLAIN_LINES[0])
    row[0] = "2025-03-03 21:15:02 CET"
    with path.open("w", newline="") as handle:
        csv.writer(handle).writerow(row)
    with pytest.raises(PgLogError, match="log_timezone"):
        pg_log.convert(path)


def test_the_daily_load_adds_the_warehouse_log_of_its_day_once(warehouse: str, tmp_path: Path) -> None:
    """EWS_WAREHOUSE_CSVLOG set: the day's events of the warehouse's own log join the day's access_events file
    before it is loaded, the gate accepts them (a Unix-socket client included), and a rerun adds nothing."""
    from tests.conftest import settings_for
    from warning_models.loader import LoadStatus
    from warning_models.pipeline import IngestReport, load_source
    from warning_models.roles import JobRole, job_url

    logs = tmp_path / "pglog"
    logs.mkdir()
    with (logs / "postgresql-2025-03-03.csv").open("w", newline="") as handle:
        csv.writer(handle).writerows(AUTO_EXPLAIN_LINES)
    settings = settings_for(tmp_path / "home", warehouse).with_overrides(warehouse_csvlog=str(logs / "*.csv"))
    day = dt.date(2025, 3, 3)
    existing = settings.landing_dir / "access_events" / f"{day}.csv"
    existing.parent.mkdir(parents=True)
    existing.write_text(
        "event_id,event_at,user_id,client_ip,action,object_name,rows_read\n"
        "E1,2025-03-03T09:00:00+00:00,U001,local,select,loans.loans,12\n"  # a Unix-socket session
    )
    loader = job_url(warehouse, JobRole.LOADER)
    with psycopg2.connect(loader) as conn:
        first = load_source(conn, settings, "access_events", day, IngestReport(day))
        again = load_source(conn, settings, "access_events", day, IngestReport(day))
        assert first is not None
        gated = gate_batches(conn, loader, [first.batch_id], gx_home=settings.gx_home, build_docs=False)
        with conn.cursor() as cur:
            cur.execute("select user_id, action, object_name, rows_read from raw.access_events order by event_at")
            rows = cur.fetchall()
    assert first.status is LoadStatus.LOADED and first.row_count == 4
    assert [g.passed for g in gated] == [True], gated[0].failures
    assert again is not None and again.status is LoadStatus.UNCHANGED
    assert rows == [
        ("U001", "select", "loans.loans", 12),
        ("bob", "export", "hr.salaries", 0),  # 22:00 +01 is 21:00 UTC
        ("bob", "login", None, 0),
        ("bob", "select", "core.customer_pii", 1234),
    ]


def test_a_multi_line_statement_gets_its_plan_rows_and_a_socket_client_is_local(tmp_path: Path) -> None:
    statement = "SELECT *\nFROM hr.salaries s\nWHERE s.amount > 10"
    head = ["carol", "dwh", "9", "[local]", "s2"]
    lines = [
        ["2025-03-04 08:00:00.000 UTC", *head, "1", "SELECT", "2025-03-04 08:00:00 UTC", "3/1", "0", "LOG", "00000",
         f"statement: {statement}", *[""] * 12],
        ["2025-03-04 08:00:00.200 UTC", *head, "2", "SELECT", "2025-03-04 08:00:00 UTC", "3/1", "0", "LOG", "00000",
         f"duration: 0.100 ms  plan:\nQuery Text: {statement}\n"
         "Seq Scan on salaries s  (cost=0.00..1.50 rows=13 width=40) (actual time=0.01..0.02 rows=77 loops=1)\n"
         "  Filter: (amount > '10'::numeric)", *[""] * 12],
    ]
    path = tmp_path / "multi.csv"
    with path.open("w", newline="") as handle:
        csv.writer(handle).writerows(lines)
    events = pg_log.convert(path).events
    assert [(e.action, e.object_name, e.rows_read, e.client_ip) for e in events] == [
        ("select", "hr.salaries", 77, "local"),
    ]
