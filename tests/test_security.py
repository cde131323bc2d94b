"""Least privilege and personal data, tried on a warehouse the daily pipeline built: every job's role is refused
what it must not do, a login with only the BI role cannot climb out of it, no personal data lies outside raw, and
hostile input stays data, never SQL."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg2
import psycopg2.errors
import pytest
from psycopg2 import sql

from tests.conftest import TEST_PSEUDONYM_KEY
from warning_models.errors import BatchNotFoundError
from warning_models.privilege_probes import PROBES, Expect, run_probes
from warning_models.pseudonyms import key_options, pgoptions_with_keys
from warning_models.roles import JobRole, job_url, role_of, with_role
from warning_models.warehouse import connect

PII_COLUMNS = ("full_name", "national_id", "birth_date")
# Schemas that hold the landed files as they came (the PII's home) and the system's own.
RAW_SCHEMAS = ("raw", "quarantine")


def _as_user(url: str, user: str) -> str:
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit(parts._replace(netloc=f"{user}@{host}"))


@pytest.fixture(scope="module")
def bi_login(bank_run: tuple[str, Path, list]) -> Iterator[str]:  # type: ignore[type-arg]
    """A login that is a member of ews_bi_reader and nothing else (as a BI tool connects)."""
    url = bank_run[0]
    name = f"ews_test_bi_{os.getpid()}"
    with connect(url, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(name)))
        cur.execute(sql.SQL("create role {} login in role ews_bi_reader").format(sql.Identifier(name)))
    yield _as_user(url, name)
    with connect(url, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(name)))


# ------------------------------------------------------------------------------------------------ roles


def test_every_job_role_exists_and_cannot_log_in(bank_run: tuple[str, Path, list]) -> None:  # type: ignore[type-arg]
    with connect(bank_run[0]) as conn, conn.cursor() as cur:
        cur.execute("select rolname, rolcanlogin, rolsuper from pg_roles where rolname like 'ews\\_%'")
        roles = {name: (login, superuser) for name, login, superuser in cur.fetchall()}
    for role in JobRole:
        assert roles[role.value] == (False, False), role


def test_every_privilege_probe_is_refused_or_allowed_as_it_must_be(bank_run: tuple[str, Path, list]) -> None:  # type: ignore[type-arg]
    with connect(bank_run[0]) as conn:
        results = run_probes(conn)
    unmet = [(r.probe.role, r.probe.attempt, r.probe.expect.value, r.outcome, r.detail) for r in results if not r.met]
    assert unmet == []
    # the probes are not vacuous: each job role has refusals and something it is allowed
    for role in JobRole:
        expectations = {p.expect for p in PROBES if p.role == role.value}
        assert Expect.ALLOWED in expectations and Expect.DENIED in expectations, role


def test_a_bi_login_cannot_read_raw_personal_data_or_climb_out_of_its_role(bi_login: str) -> None:
    conn = psycopg2.connect(bi_login)
    try:
        with conn.cursor() as cur:
            cur.execute("select current_user, pg_has_role(current_user, 'ews_bi_reader', 'member')")
            user, member = cur.fetchone()
            assert user.startswith("ews_test_bi_") and member
            cur.execute("select count(*) from bi.borrowers")
            assert cur.fetchone()[0] > 0
            cur.execute("select count(*) from warning.alerts")
            assert cur.fetchone()[0] > 0
        conn.commit()
        for statement in (
            "select full_name, national_id from raw.borrowers",
            "select * from staging.stg_core__borrowers",
            "select * from marts.dim_borrowers",
            "set role ews_transformer",
            "set role postgres",
        ):
            with pytest.raises(psycopg2.errors.InsufficientPrivilege), conn.cursor() as cur:
                cur.execute(statement)
            conn.rollback()
    finally:
        conn.close()


def test_the_masked_borrower_view_carries_no_personal_data(bank_run: tuple[str, Path, list]) -> None:  # type: ignore[type-arg]
    url = bank_run[0]
    with connect(url) as conn, conn.cursor() as cur:
        cur.execute(
            "select column_name from information_schema.columns where table_schema = 'bi' and table_name = 'borrowers'"
        )
        columns = {r[0] for r in cur.fetchall()}
        assert "person_key" in columns and not columns & set(PII_COLUMNS)
        # the pseudonym is HMAC-SHA256 of the normalised national id with the bank's key, nothing weaker
        cur.execute(
            """select b.person_key, r.national_id from bi.borrowers b
               join raw.borrowers r using (borrower_id) limit 20"""
        )
        pairs = cur.fetchall()
    assert len(pairs) == 20
    for person_key, national_id in pairs:
        normalised = "".join(c for c in national_id.upper() if c.isascii() and c.isalnum())
        expected = hmac.new(TEST_PSEUDONYM_KEY.encode(), normalised.encode(), hashlib.sha256).hexdigest()
        assert person_key == expected


def test_dbt_and_the_jobs_run_as_their_roles(bank_run: tuple[str, Path, list]) -> None:  # type: ignore[type-arg]
    url = bank_run[0]
    with connect(url) as conn, conn.cursor() as cur:
        cur.execute(
            """select distinct schemaname, tableowner from pg_tables
               where schemaname in ('staging', 'marts', 'consortium') order by 1"""
        )
        owners = cur.fetchall()
    assert owners and {owner for _, owner in owners} == {JobRole.TRANSFORMER.value}
    for role in (JobRole.LOADER, JobRole.MODELER):
        with connect(job_url(url, role)) as conn, conn.cursor() as cur:
            cur.execute("select current_user")
            assert cur.fetchone()[0] == role.value


def test_a_job_url_of_its_own_wins_and_still_sets_the_role() -> None:
    base = "postgresql://admin:pw@db.example:5432/ews?sslmode=require&options=-c%20statement_timeout%3D0"
    own = "postgresql://loader_login:secret@db.example:5432/ews"
    url = job_url(base, JobRole.LOADER, {"EWS_LOADER_DATABASE_URL": own})
    assert url.startswith("postgresql://loader_login:secret@") and role_of(url) == "ews_loader"
    url = job_url(base, JobRole.MODELER, {})
    assert role_of(url) == "ews_modeler" and "sslmode=require" in url and "statement_timeout" in url
    assert role_of(with_role(url, JobRole.LOADER)) == "ews_loader"  # replaced, not added twice
    assert with_role(url, JobRole.LOADER).count("role") == 1


# ------------------------------------------------------------------------------------------------ personal data


def test_no_personal_data_outside_raw(bank_run: tuple[str, Path, list]) -> None:  # type: ignore[type-arg]
    """No column outside raw and quarantine is named like a PII column, and no text value anywhere else equals a
    borrower's name or national id (or holds a national id in a longer text, such as an alert's explanation)."""
    url = bank_run[0]
    with connect(url) as conn, conn.cursor() as cur:
        cur.execute(
            """select c.table_schema, c.table_name, c.column_name, c.data_type
               from information_schema.columns c
               join information_schema.tables t using (table_schema, table_name)
               where c.table_schema not in ('raw', 'quarantine', 'pg_catalog', 'information_schema')
                 and c.table_schema not like 'pg\\_%'
                 -- every table, and the views of staging and bi (intermediate views only feed the tables)
                 and (t.table_type = 'BASE TABLE' or c.table_schema in ('staging', 'bi'))"""
        )
        columns = cur.fetchall()
        assert not [c for c in columns if c[2] in PII_COLUMNS]
        cur.execute(
            """create temp table pii on commit drop as
               select full_name as value from raw.borrowers union select national_id from raw.borrowers"""
        )
        cur.execute("analyze pii")
        cur.execute("select count(*) from pii")
        assert cur.fetchone()[0] > 500
        found = []
        text_columns = [c for c in columns if c[3] in ("text", "character varying")]
        for schema, table, column, _ in text_columns:
            cur.execute(
                sql.SQL("select count(*) from {}.{} where {} in (select value from pii)").format(
                    sql.Identifier(schema), sql.Identifier(table), sql.Identifier(column)
                )
            )
            if cur.fetchone()[0]:
                found.append(f"{schema}.{table}.{column}")
        cur.execute(
            """select count(*) from warning.alerts a
               where exists (select 1 from raw.borrowers b where strpos(a.explanation, b.national_id) > 0)"""
        )
        if cur.fetchone()[0]:
            found.append("warning.alerts.explanation")
        assert len(text_columns) > 100
    assert found == []


# ------------------------------------------------------------------------------------------------ hostile input

HOSTILE = "x'); drop table raw.loans; --\\ \"q\" ; select pg_sleep(0)"


def test_hostile_text_in_a_landing_file_is_stored_as_data(warehouse: str, tmp_path: Path) -> None:
    from warning_models.loader import load_file

    path = tmp_path / "access_events" / "2025-03-03.csv"
    path.parent.mkdir()
    path.write_text(
        "event_id,event_at,user_id,client_ip,action,object_name,rows_read\n"
        f'E1,2025-03-03T09:00:00+00:00,"{HOSTILE.replace(chr(34), chr(34) * 2)}",10.0.0.1,select,"{HOSTILE.replace(chr(34), chr(34) * 2)}",1\n',
        encoding="utf-8",
    )
    loader = job_url(warehouse, JobRole.LOADER)
    with connect(loader) as conn:
        result = load_file(conn, "access_events", dt.date(2025, 3, 3), path)
    assert result.row_count == 1
    with connect(warehouse) as conn, conn.cursor() as cur:
        cur.execute("select user_id, object_name from raw.access_events")
        assert cur.fetchall() == [(HOSTILE, HOSTILE)]
        cur.execute("select to_regclass('raw.loans') is not null")
        assert cur.fetchone()[0]


def test_a_hostile_batch_id_is_looked_up_as_a_value(warehouse: str) -> None:
    from warning_models import quarantine

    with connect(job_url(warehouse, JobRole.LOADER)) as conn:
        with pytest.raises(BatchNotFoundError):
            quarantine.get_entry(conn, HOSTILE)
    with connect(warehouse) as conn, conn.cursor() as cur:
        cur.execute("select to_regclass('raw.loans') is not null")
        assert cur.fetchone()[0]


def test_a_hostile_cli_argument_gets_a_clear_error_and_changes_nothing(
    warehouse: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from warning_models.cli import main

    monkeypatch.setenv("EWS_DATABASE_URL", warehouse)
    monkeypatch.setenv("EWS_HOME", str(tmp_path))
    assert main(["quarantine", "show", HOSTILE]) != 0
    assert "no quarantined batch matches" in capsys.readouterr().err
    with connect(warehouse) as conn, conn.cursor() as cur:
        cur.execute("select count(*) from pg_tables where schemaname = 'raw'")
        assert cur.fetchone()[0] >= 10


def test_a_hostile_key_reaches_the_server_intact_as_a_setting(warehouse: str) -> None:
    """A key with quotes, backslashes and spaces is a session setting, never SQL text, and gives the same HMAC as
    Python's hmac module: the key is never interpolated into a statement."""
    key = "k' ; drop table raw.loans; -- \\ spaces and 'quotes' 0123456789"
    env = {"EWS_PSEUDONYM_KEY": key, "PGOPTIONS": "-c statement_timeout=0"}
    options = pgoptions_with_keys(env)
    assert "statement_timeout" in options and key_options(env) in options
    conn = psycopg2.connect(warehouse, options=options)
    try:
        with conn.cursor() as cur:
            cur.execute("select current_setting('ews.pseudonym_key')")
            assert cur.fetchone()[0] == key
            cur.execute(
                """select encode(warning.hmac_sha256(convert_to('AB12', 'UTF8'),
                                 convert_to(current_setting('ews.pseudonym_key'), 'UTF8')), 'hex')"""
            )
            assert cur.fetchone()[0] == hmac.new(key.encode(), b"AB12", hashlib.sha256).hexdigest()
            cur.execute("select to_regclass('raw.loans') is not null")
            assert cur.fetchone()[0]
    finally:
        conn.close()


def test_keys_that_are_missing_or_short_are_refused() -> None:
    from warning_models.errors import ConfigError

    with pytest.raises(ConfigError, match="EWS_PSEUDONYM_KEY is not set"):
        key_options({})
    with pytest.raises(ConfigError, match="at least 32"):
        key_options({"EWS_PSEUDONYM_KEY": "short"})
    with pytest.raises(ConfigError, match="EWS_CONSORTIUM_KEY must hold"):
        key_options({"EWS_PSEUDONYM_KEY": "p" * 32, "EWS_CONSORTIUM_KEY": "c" * 31})
    assert key_options({"EWS_PSEUDONYM_KEY": "p" * 32}) == "-c ews.pseudonym_key=" + "p" * 32


def test_gx_queries_take_only_batch_ids_the_loader_makes() -> None:
    """GX runs its history checks as SQL text: a batch id that is not source:date:checksum never gets into one."""
    from expectations.custom import batches_under_test

    assert "'loans:2025-03-03:0123456789ab'" in batches_under_test(["loans:2025-03-03:0123456789ab"])
    for hostile in (HOSTILE, "loans:2025-03-03:0123456789ab' or '1'='1", "loans:2025-03-03:0123456789AB"):
        with pytest.raises(ValueError, match="not a batch id"):
            batches_under_test([hostile])


def test_institution_grants_of_marts_built_together_do_not_collide(warehouse: str) -> None:
    """dbt builds marts in parallel threads, each post-hook granting usage on the one schema: the second grant
    waits for the first instead of failing with "tuple concurrently updated" (migration 0014)."""
    import threading

    with psycopg2.connect(warehouse) as conn, conn.cursor() as cur:
        cur.execute("create table marts.rls_probe_a (institution_id text); create table marts.rls_probe_b (institution_id text)")
    first = psycopg2.connect(warehouse)
    outcome: list[BaseException | None] = []

    def second() -> None:
        try:
            with psycopg2.connect(warehouse) as conn, conn.cursor() as cur:
                cur.execute("select warning.apply_institution_rls('marts.rls_probe_b')")
            outcome.append(None)
        except BaseException as error:  # noqa: BLE001 (reported below)
            outcome.append(error)

    try:
        with first.cursor() as cur:
            cur.execute("select warning.apply_institution_rls('marts.rls_probe_a')")  # not committed yet
        thread = threading.Thread(target=second)
        thread.start()
        thread.join(1.0)
        first.commit()
        thread.join(10)
    finally:
        first.close()
    assert outcome == [None], outcome
