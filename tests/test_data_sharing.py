"""Risk-data sharing between institutions (central-database mode), on a warehouse the daily pipeline built: an
institution's analyst reads only that institution's rows, a borrower of two institutions is matched by the
consortium pseudonym without revealing who it is, and no published aggregate stands on fewer than k borrowers."""

from __future__ import annotations

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

from tests.conftest import TEST_CONSORTIUM_KEY
from warning_models.warehouse import connect

DEFAULT_K = 5
# The credit marts with row-level security by institution (dbt post-hook institution_row_level_security).
INSTITUTION_MARTS = ("marts.dim_loans", "marts.dim_borrowers", "marts.fct_loan_days", "marts.fct_borrower_months")


def _as_user(url: str, user: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"{user}@{parts.netloc.rsplit('@', 1)[-1]}"))


def _consortium_key(national_id: str) -> str:
    normalised = "".join(c for c in national_id.upper() if c.isascii() and c.isalnum())
    return hmac.new(TEST_CONSORTIUM_KEY.encode(), normalised.encode(), hashlib.sha256).hexdigest()


@pytest.fixture(scope="module")
def logins(bank_run: tuple[str, Path, list]) -> Iterator[dict[str, str]]:  # type: ignore[type-arg]
    """Logins: an analyst of INST_A, an analyst of INST_B, the consortium; URLs by name."""
    url = bank_run[0]
    pid = os.getpid()
    names = {"a": f"ews_test_analyst_a_{pid}", "b": f"ews_test_analyst_b_{pid}", "consortium": f"ews_test_cons_{pid}"}
    with connect(url, autocommit=True) as conn, conn.cursor() as cur:
        for key, name in names.items():
            role = "ews_consortium" if key == "consortium" else "ews_institution_analyst"
            cur.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(name)))
            cur.execute(sql.SQL("create role {} login in role {}").format(sql.Identifier(name), sql.Identifier(role)))
        cur.execute(
            "insert into audit.institution_members (login_role, institution_id) values (%s, 'INST_A'), (%s, 'INST_B')",
            (names["a"], names["b"]),
        )
    yield {key: _as_user(url, name) for key, name in names.items()}
    with connect(url, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute("delete from audit.institution_members where login_role = any(%s)", (list(names.values()),))
        for name in names.values():
            cur.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(name)))


def _rows(url: str, statement: str, *params: object) -> list[tuple]:  # type: ignore[type-arg]
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute(statement, params)
            return cur.fetchall()
    finally:
        conn.close()


@pytest.mark.parametrize("mart", INSTITUTION_MARTS)
def test_an_institution_reads_only_its_own_rows(bank_run: tuple[str, Path, list], logins: dict[str, str], mart: str) -> None:  # type: ignore[type-arg]
    admin = dict(_rows(bank_run[0], f"select institution_id, count(*) from {mart} group by 1"))
    assert admin.get("INST_A", 0) > 0 and admin.get("INST_B", 0) > 0
    for who, institution in (("a", "INST_A"), ("b", "INST_B")):
        seen = dict(_rows(logins[who], f"select institution_id, count(*) from {mart} group by 1"))
        assert seen == {institution: admin[institution]}, (who, mart)
    # asking for the other institution's rows by name returns nothing, and no error tells them apart
    assert _rows(logins["a"], f"select count(*) from {mart} where institution_id = 'INST_B'") == [(0,)]


def test_an_institution_cannot_read_raw_data_the_shared_mart_or_widen_its_membership(logins: dict[str, str]) -> None:
    conn = psycopg2.connect(logins["a"])
    try:
        for statement in (
            "select * from raw.borrowers",
            "select * from staging.stg_core__borrower_pseudonyms",
            "select * from consortium.fct_consortium_borrower_signals",
            "insert into audit.institution_members (login_role, institution_id) values (current_user, 'INST_B')",
            "alter table marts.fct_loan_days disable row level security",
        ):
            with pytest.raises(psycopg2.errors.InsufficientPrivilege), conn.cursor() as cur:
                cur.execute(statement)
            conn.rollback()
        with conn.cursor() as cur:
            cur.execute("select institution_id from audit.institution_members")
            assert cur.fetchall() == [("INST_A",)]
    finally:
        conn.close()


def test_a_borrower_of_two_institutions_is_matched_by_the_consortium(bank_run: tuple[str, Path, list], logins: dict[str, str]) -> None:  # type: ignore[type-arg]
    url = bank_run[0]
    # people with borrower ids at two institutions and a live loan at each on the marts' latest day
    shared = _rows(
        url,
        """with latest as (select max(performance_date) as d from marts.fct_loan_days),
                live as (select distinct l.borrower_id, l.institution_id from marts.fct_loan_days l, latest
                         where l.performance_date = latest.d)
           select r.national_id, array_agg(distinct live.institution_id order by live.institution_id)
           from raw.borrowers r join live using (borrower_id)
           group by r.national_id having count(distinct live.institution_id) = 2""",
    )
    assert len(shared) >= 3
    signals = dict(
        _rows(logins["consortium"], "select consortium_borrower_key, institutions_count from consortium.fct_consortium_borrower_signals")
    )
    for national_id, institutions in shared:
        key = _consortium_key(national_id)  # what every member holding the key computes for the person
        assert signals.get(key) == 2, (institutions, key)
        # the key reveals nothing readable: hex of a keyed hash, no part of the id in it
        assert len(key) == 64 and national_id.replace("-", "")[:6] not in key
    # and the consortium sees one row per person, never borrower, loan or institution ids
    columns = {r[0] for r in _rows(
        url,
        """select column_name from information_schema.columns
           where table_schema = 'consortium' and table_name = 'fct_consortium_borrower_signals'""",
    )}
    assert not columns & {"borrower_id", "loan_id", "institution_id", "national_id", "full_name", "region", "segment"}


def test_an_unshared_borrower_is_one_consortium_borrower_of_one_institution(bank_run: tuple[str, Path, list]) -> None:  # type: ignore[type-arg]
    counts = _rows(
        bank_run[0],
        """select institutions_count, count(*) from consortium.fct_consortium_borrower_signals group by 1 order by 1""",
    )
    by_count = dict(counts)
    assert by_count.get(1, 0) > 10 * by_count.get(2, 0) > 0
    assert set(by_count) <= {1, 2}


def test_small_cells_are_suppressed_and_cannot_be_recovered(bank_run: tuple[str, Path, list], logins: dict[str, str]) -> None:  # type: ignore[type-arg]
    url = bank_run[0]
    cells = _rows(
        url,
        """select region, segment, delinquency_bucket, count(*)
           from intermediate.int_loan_days_aggregated_to_consortium_borrowers group by 1, 2, 3""",
    )
    small = {(r, s, b) for r, s, b, n in cells if n < DEFAULT_K}
    assert small, "the fixture bank must have cells below k, or this test proves nothing"
    published = _rows(
        logins["consortium"],
        "select region, segment, delinquency_bucket, borrowers_count, is_rolled_up, min_cell_borrowers "
        "from consortium.fct_consortium_risk_cells",
    )
    assert published and all(n >= DEFAULT_K and k == DEFAULT_K for *_, n, _, k in published)
    assert not small & {(r, s, b) for r, s, b, *_ in published}
    # Per bucket (whose total the borrower signals give away), what is not published as a cell holds nothing or at
    # least k borrowers, so no hidden cell can be had by subtraction; a bucket with no published cell at all
    # reveals only its total, not where in it the borrowers are.
    totals: dict[str, int] = {}
    for _, _, bucket, n in cells:
        totals[bucket] = totals.get(bucket, 0) + n
    for bucket, total in totals.items():
        cells_sum = sum(n for _, _, b, n, rolled, _ in published if b == bucket and not rolled)
        hidden = total - cells_sum
        assert hidden == 0 or hidden >= DEFAULT_K or cells_sum == 0, (bucket, hidden)
