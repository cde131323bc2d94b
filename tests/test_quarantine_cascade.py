"""A held-back parent holds its children back; replaying the corrected parent lets them through."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import psycopg2

from tests.conftest import settings_for
from warning_models.contract import landing_path
from warning_models.pipeline import ingest_days
from warning_models.quarantine import STATES, list_entries, replay

DAY = dt.date(2025, 3, 3)
BORROWERS = "borrower_id,institution_id,full_name,national_id,birth_date,region,segment,annual_income_amount,onboarded_date\n"
LOANS = "loan_id,borrower_id,product,origination_date,principal_amount,interest_rate_pct,term_months\n"


def test_replaying_a_corrected_parent_rejudges_the_children_it_held_back(warehouse: str, tmp_path: Path) -> None:
    settings = settings_for(tmp_path, warehouse)
    borrowers = landing_path(settings.landing_dir, "borrowers", DAY)
    loans = landing_path(settings.landing_dir, "loans", DAY)
    for path in (borrowers, loans):
        path.parent.mkdir(parents=True)
    borrowers.write_text(BORROWERS + f"B1,I1,Ann Lee,N1,1980-01-01,North,vip,50000,{DAY}\n")  # 'vip' is no segment
    loans.write_text(LOANS + f"L1,B1,personal,{DAY},1000,5,12\n")
    with psycopg2.connect(warehouse) as conn:
        ingest_days(conn, warehouse, settings, [DAY])
        held = {e.source: e for e in list_entries(conn)}
        assert set(held) == {"borrowers", "loans"}
        assert held["borrowers"].rules == ["allowed_values"] and held["loans"].rules == ["orphan_keys"]

        borrowers.write_text(BORROWERS + f"B1,I1,Ann Lee,N1,1980-01-01,North,retail,50000,{DAY}\n")  # re-extracted
        outcome = replay(conn, warehouse, settings, held["borrowers"].batch_id, "ops")
        assert outcome.passed
        assert [(r.source, r.passed) for r in outcome.rejudged] == [("loans", True)]
        assert list_entries(conn) == []
        states = {e.source: e.state for e in list_entries(conn, STATES)}
    assert states == {"borrowers": "replaced", "loans": "replayed"}
    with psycopg2.connect(warehouse) as conn, conn.cursor() as cur:
        cur.execute("select source, status from audit.batches order by source, status")
        assert cur.fetchall() == [("borrowers", "passed"), ("borrowers", "quarantined"), ("loans", "passed")]
        cur.execute("select count(*) from quarantine.batches")  # both files stay in quarantine, with their history
        assert cur.fetchone() == (2,)
