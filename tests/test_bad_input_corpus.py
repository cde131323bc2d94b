"""The bad-input corpus: broken and inauthentic batches of every source, each caught, explained and kept.

A clean history of 40 business days (plus day 41's borrowers, loans and repayments) is loaded and built. Then
each corrupted batch for day 41 is loaded and gated on its own. Every one must end in quarantine with its
file bytes, and `ews quarantine show` must name the file, the rule and (for row-level rules) the lines. None
may reach raw or the marts: the warehouse outside quarantine and audit is byte-for-byte what it was. Then the
clean files for day 41 pass, and a replay of a held-back batch flows through the pipeline.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psycopg2
import pytest

from tests.conftest import settings_for
from warning_models.config import Settings
from warning_models.contract import control_path, is_trading_day, landing_path

START = dt.date(2025, 1, 1)
DAY = START + dt.timedelta(days=40)  # 2025-02-10, a Monday: the day every corrupted batch is for
UPSTREAM_OF_DAY = ("borrowers", "loans", "repayments")
BANK = dict(start_date=START, days=45, n_borrowers=500, n_instruments=10, n_users=20, n_economies=4, seed=11)
FROZEN = "the instrument on the first data line of market_prices"

Rows = list[list[str]]
EWS = str(Path(sys.executable).with_name("ews"))


def _read(path: Path) -> tuple[list[str], Rows]:
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    return rows[0], rows[1:]


def _csv(header: list[str], rows: Rows) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([header, *rows])
    return out.getvalue().encode("utf-8")


@dataclass
class Case:
    kind: str
    source: str
    rule: str  # the rule (check) the message must name
    lines: tuple[int, ...]  # file lines the message must name (empty: a rule about the whole batch)
    corrupt: Callable[[list[str], Rows, "Bank"], bytes]
    day: dt.date = DAY
    with_control: bool = False  # deliver the clean file's control totals next to the corrupted file


@dataclass
class Bank:
    settings: Settings
    url: str

    def clean(self, source: str, day: dt.date = DAY) -> Path:
        return landing_path(self.settings.landing_dir, source, day)

    def one(self, sql: str, *params: object) -> tuple:
        with psycopg2.connect(self.url) as conn, conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchone()


def _col(header: list[str], name: str) -> int:
    return header.index(name)


def _set(rows: Rows, header: list[str], line: int, column: str, value: str) -> Rows:
    rows = [list(r) for r in rows]
    rows[line - 2][_col(header, column)] = value
    return rows


def _replace_line(content: bytes, line: int, text: bytes) -> bytes:
    lines = content.split(b"\n")
    lines[line - 1] = text
    return b"\n".join(lines)


def _new_loan(h: list[str], rows: Rows, b: Bank, **values: str) -> bytes:
    borrower = b.one("select borrower_id from raw.borrowers order by borrower_id limit 1")[0]
    row = {"loan_id": "L999001", "borrower_id": borrower, "product": "personal", "origination_date": str(DAY),
           "principal_amount": "1000.00", "interest_rate_pct": "5.0", "term_months": "12", **values}
    return _csv(h, [[row[c] for c in h], *rows])


def _macro_restated(h: list[str], rows: Rows, b: Bank) -> bytes:
    series, period, value = b.one(
        "select series_id, period_end_date, value from raw.macro_series order by period_end_date desc, series_id limit 1"
    )
    row = {"series_id": series, "period_end_date": str(period), "value": str(value * 100)}
    return _csv(h, [[row[c] for c in h]])


def _shift_price(factor: float, line: int) -> Callable[[list[str], Rows, Bank], bytes]:
    def corrupt(h: list[str], rows: Rows, b: Bank) -> bytes:
        price = float(rows[line - 2][_col(h, "close_price")])
        return _csv(h, _set(rows, h, line, "close_price", f"{price * factor:.4f}"))

    return corrupt


def _frozen_close(h: list[str], rows: Rows, b: Bank) -> bytes:
    instrument = rows[0][_col(h, "instrument_id")]
    (close,) = b.one("select close_price from raw.market_prices where instrument_id = %s order by price_date desc limit 1", instrument)
    return _csv(h, _set(rows, h, 2, "close_price", str(close)))


def _balance_up(h: list[str], rows: Rows, b: Bank) -> bytes:
    balance = float(rows[5][_col(h, "balance_amount")])
    return _csv(h, _set(rows, h, 7, "balance_amount", f"{balance + 1000:.2f}"))


def _dpd_jump(h: list[str], rows: Rows, b: Bank) -> bytes:
    dpd = int(rows[6][_col(h, "days_past_due")])
    return _csv(h, _set(rows, h, 8, "days_past_due", str(dpd + 30)))


def _paid_changed(h: list[str], rows: Rows, b: Bank) -> bytes:
    paid = float(rows[1][_col(h, "paid_amount")])
    return _csv(h, _set(rows, h, 3, "paid_amount", f"{paid + 10:.2f}"))


def _drop_live_loans(h: list[str], rows: Rows, b: Bank) -> bytes:
    with_balance = [i for i, r in enumerate(rows) if float(r[_col(h, "balance_amount")]) > 1000][:3]
    return _csv(h, [r for i, r in enumerate(rows) if i not in with_balance])


def _access_on(day: dt.date) -> Callable[[list[str], Rows, Bank], bytes]:
    def corrupt(h: list[str], rows: Rows, b: Bank) -> bytes:
        i = _col(h, "event_at")
        return _csv(h, [[*r[:i], f"{day}T{r[i][11:]}", *r[i + 1:]] for r in rows[:50]])

    return corrupt


def _prices_on(day: dt.date) -> Callable[[list[str], Rows, Bank], bytes]:
    def corrupt(h: list[str], rows: Rows, b: Bank) -> bytes:
        return _csv(h, [_set([r], h, 2, "price_date", str(day))[0] for r in rows])

    return corrupt


SATURDAY = DAY - dt.timedelta(days=2)
CUT = 30  # the file line a truncated file ends in
FUTURE = dt.date.today() + dt.timedelta(days=30)

CASES = [
    # the landing contract (the loader)
    Case("malformed csv", "loans", "csv_syntax", (2,), lambda h, r, b: _replace_line(_new_loan(h, r, b), 2, b'"L999001"x,B1,personal')),
    Case("wrong encoding", "borrowers", "encoding_utf8", (1,), lambda h, r, b: _csv(h, r).replace(b"borrower_id", "borrower_\xefd".encode("latin-1"), 1)),
    Case("missing column", "market_prices", "header_columns", (1,), lambda h, r, b: _csv(h[:2], [x[:2] for x in r])),
    Case("extra column", "access_events", "header_columns", (1,), lambda h, r, b: _csv([*h, "note"], [[*x, "n"] for x in r])),
    Case("wrong type", "loan_performance", "column_type", (4,), lambda h, r, b: _csv(h, _set(r, h, 4, "balance_amount", "12,5O"))),
    Case("ambiguous date", "repayments", "column_type", (2,), lambda h, r, b: _csv(h, _set(r, h, 2, "due_date", DAY.strftime("%m/%d/%Y")))),
    Case("empty file", "access_events", "empty_file", (), lambda h, r, b: b""),
    Case("header only", "loan_performance", "empty_file", (1,), lambda h, r, b: _csv(h, [])),
    Case("truncated mid-row", "loan_performance", "column_count", (CUT,), lambda h, r, b: _csv(h, r[: CUT - 2]) + b"L0000"),
    Case("missing value", "loans", "not_null", (2,), lambda h, r, b: _new_loan(h, r, b, principal_amount="")),
    # structure and business rules (GX)
    Case("truncated at a row boundary", "loan_performance", "control_totals", (), lambda h, r, b: _csv(h, r[: len(r) // 2]), with_control=True),
    Case("totals do not match the ledger", "repayments", "control_totals", (), _paid_changed, with_control=True),
    Case("duplicate keys", "repayments", "key_unique", (), lambda h, r, b: _csv(h, [*r, r[0]])),
    Case("negative balance", "loan_performance", "value_range", (6,), lambda h, r, b: _csv(h, _set(r, h, 6, "balance_amount", "-5.00"))),
    Case("unknown category", "access_events", "allowed_values", (3,), lambda h, r, b: _csv(h, _set(r, h, 3, "action", "delete"))),
    Case("row outside the business date", "loan_performance", "on_business_date", (5,), lambda h, r, b: _csv(h, _set(r, h, 5, "performance_date", str(DAY - dt.timedelta(days=1))))),
    Case("future date in a row", "loans", "not_after_business_date", (2,), lambda h, r, b: _new_loan(h, r, b, origination_date=str(DAY + dt.timedelta(days=5)))),
    Case("batch from the future", "access_events", "batch_date_not_in_future", (), _access_on(FUTURE), day=FUTURE),
    Case("orphan loan", "loans", "orphan_keys", (2,), lambda h, r, b: _new_loan(h, r, b, borrower_id="B999999")),
    Case("orphan loan balance", "loan_performance", "orphan_keys", (2,), lambda h, r, b: _csv(h, [[{"loan_id": "L999999"}.get(c, v) for c, v in zip(h, r[0])], *r])),
    # authenticity against history
    Case("stale price", "market_prices", "stale_price", (2,), _frozen_close),
    Case("price x100", "market_prices", "price_jump", (3,), _shift_price(100, 3)),
    Case("price /100", "market_prices", "price_jump", (4,), _shift_price(0.01, 4)),
    Case("unknown instrument", "market_prices", "unknown_instrument", (2,), lambda h, r, b: _csv(h, [["ZZ99", str(DAY), "10.0000"], *r])),
    Case("instrument missing", "market_prices", "instrument_missing", (), lambda h, r, b: _csv(h, r[1:])),
    Case("prices on a non-trading day", "market_prices", "trading_day", (), _prices_on(SATURDAY), day=SATURDAY),
    Case("broken reconciliation", "loan_performance", "balance_reconciliation", (7,), _balance_up),
    Case("days past due jump", "loan_performance", "days_past_due_jump", (8,), _dpd_jump),
    Case("loans dropped from the extract", "loan_performance", "loan_vanished", (), _drop_live_loans),
    Case("volume collapse", "access_events", "row_count_collapse", (), lambda h, r, b: _csv(h, r[: len(r) // 20])),
    Case("macro value x100", "macro_series", "macro_value_jump", (2,), _macro_restated),
]


def _freeze_history(landing: Path) -> None:
    """History for the stale-price case: one instrument closes unchanged on the 4 trading days before DAY."""
    days = [d for d in (DAY - dt.timedelta(days=k) for k in range(1, 10)) if is_trading_day(d)][:4]
    first = landing_path(landing, "market_prices", min(days))
    header, rows = _read(first)
    instrument, close = rows[0][_col(header, "instrument_id")], rows[0][_col(header, "close_price")]
    for day in days:
        path = landing_path(landing, "market_prices", day)
        header, rows = _read(path)
        rows = [[*r[:2], close] if r[0] == instrument else r for r in rows]
        path.write_bytes(_csv(header, rows))
        control_path(path).unlink(missing_ok=True)


SCHEMAS_KEPT_EQUAL = ("raw", "staging", "intermediate", "marts", "warning")


def _snapshot(url: str) -> dict[str, str]:
    """A digest of every table outside quarantine and audit (data-quality alerts aside)."""
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute(
            "select table_schema, table_name from information_schema.tables where table_schema = any(%s) and table_type = 'BASE TABLE'",
            (list(SCHEMAS_KEPT_EQUAL),),
        )
        tables = sorted(cur.fetchall())
        digests = {}
        for schema, table in tables:
            where = "where t.domain <> 'data_quality'" if (schema, table) == ("warning", "alerts") else ""
            cur.execute(f'select count(*), md5(coalesce(string_agg(t::text, \'|\' order by t::text), \'\')) from "{schema}"."{table}" t {where}')
            digests[f"{schema}.{table}"] = "%s:%s" % cur.fetchone()
    return digests


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory, make_database: Callable[[], str], dbt_target: Path) -> Bank:
    from warning_models.generator import BankConfig, generate_bank
    from warning_models.pipeline import days_between, ingest_days
    from warning_models.transform import run_dbt
    from warning_models.warehouse import connect

    home = tmp_path_factory.mktemp("corpus_bank")
    url = make_database()
    settings = settings_for(home, url).with_overrides(dbt_target_dir=dbt_target)
    generate_bank(BankConfig(**BANK), settings.landing_dir, settings.truth_path, progress=False)
    _freeze_history(settings.landing_dir)
    bank = Bank(settings, url)
    # The day's clean files wait outside the landing folder until the corpus has run.
    held = home / "clean_day"
    for source_dir in settings.landing_dir.iterdir():
        for path in source_dir.glob(f"{DAY}*"):
            if source_dir.name not in UPSTREAM_OF_DAY:
                (held / source_dir.name).mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, held / source_dir.name / path.name)
                path.unlink()
    with connect(url) as conn:
        reports = ingest_days(conn, url, settings, list(days_between(START, DAY)))
    assert [r.business_date for r in reports if r.quarantined] == []
    run_dbt(["build"], url, settings)
    return bank


@pytest.fixture(scope="module")
def corpus(history: Bank, tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[object, dict, str]]:
    """Every case loaded and gated; per kind: load result, quarantine entry, `ews quarantine show` text."""
    from warning_models.gate import gate_batch
    from warning_models.quarantine import file_bytes, get_entry
    from warning_models.summary import quarantine_detail

    before = _snapshot(history.url)
    held = history.settings.home / "clean_day"
    root = tmp_path_factory.mktemp("corpus")
    outcome = {}
    for case in CASES:
        clean = history.clean(case.source) if case.source in UPSTREAM_OF_DAY else held / case.source / f"{DAY}.csv"
        if case.source == "macro_series":
            clean = next(p for p in sorted(history.settings.landing_dir.glob("macro_series/*.csv")))
        header, rows = _read(clean)
        path = landing_path(root / case.kind.replace(" ", "_").replace("/", "_"), case.source, case.day)
        path.parent.mkdir(parents=True)
        path.write_bytes(case.corrupt(header, rows, history))
        if case.with_control:
            shutil.copy2(control_path(clean), control_path(path))
        with psycopg2.connect(history.url) as conn:
            from warning_models.loader import load_file

            loaded = load_file(conn, case.source, case.day, path)
            if loaded.batch_status == "loaded":
                gate_batch(conn, history.url, loaded.batch_id)
            entry = get_entry(conn, loaded.batch_id)
            kept = file_bytes(conn, entry.batch_id)
        outcome[case.kind] = (loaded, entry, quarantine_detail(entry), path, kept)
    outcome["__before__"] = before  # type: ignore[assignment]
    return outcome


def test_the_corpus_has_at_least_twenty_kinds_across_every_source() -> None:
    assert len({c.kind for c in CASES}) >= 20
    assert {c.source for c in CASES} == {
        "borrowers", "loans", "loan_performance", "repayments", "market_prices", "macro_series", "access_events"
    }


@pytest.mark.parametrize("case", CASES, ids=[c.kind for c in CASES])
def test_each_corruption_is_quarantined_and_explained(corpus: dict, case: Case) -> None:
    loaded, entry, shown, path, kept = corpus[case.kind]
    assert entry.state == "open" and entry.business_date == case.day
    assert case.rule in entry.rules, shown
    assert str(path) in shown  # the file
    assert f"rule {case.rule}" in shown  # the rule
    for line in case.lines:  # the rows
        assert f"line {line}" in shown, shown
    assert kept == path.read_bytes()  # nothing lost


def test_nothing_of_the_corpus_reaches_raw_or_the_marts(history: Bank, corpus: dict) -> None:
    from warning_models.transform import run_dbt

    run_dbt(["build"], history.url, history.settings)
    assert _snapshot(history.url) == corpus["__before__"]
    n_alerts = history.one("select count(*) from warning.alerts where domain = 'data_quality' and severity = 'high'")[0]
    assert n_alerts >= len(CASES)  # every rejection is also a data-quality alert


def _ews(bank: Bank, *args: str) -> "subprocess.CompletedProcess[str]":
    env = {**os.environ, "EWS_DATABASE_URL": bank.url, "EWS_HOME": str(bank.settings.home),
           "EWS_DBT_TARGET_DIR": str(bank.settings.dbt_target_dir)}
    return subprocess.run([EWS, *args], env=env, capture_output=True, text=True, timeout=600)


def _id(corpus: dict, kind: str) -> str:
    return corpus[kind][1].batch_id


def test_quarantine_list_and_show_name_file_rule_and_rows(history: Bank, corpus: dict) -> None:
    listed = _ews(history, "quarantine", "list")
    assert listed.returncode == 0, listed.stderr
    assert all(_id(corpus, c.kind) in listed.stdout for c in CASES)
    shown = _ews(history, "quarantine", "show", _id(corpus, "price x100").split(":")[-1])  # the checksum names it
    assert shown.returncode == 0, shown.stderr
    assert str(corpus["price x100"][3]) in shown.stdout and "rule price_jump" in shown.stdout and "line 3" in shown.stdout


def test_a_replayed_correction_flows_through_the_pipeline(history: Bank, corpus: dict) -> None:
    held = history.settings.home / "clean_day" / "market_prices" / f"{DAY}.csv"
    shutil.copy2(held, history.clean("market_prices"))  # the extract job drops the corrected file
    done = _ews(history, "quarantine", "replay", _id(corpus, "price x100"), "--by", "ops")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "passed" in done.stdout and f"recomputed models and indicators for 1 day(s): {DAY}" in done.stdout
    assert history.one("select count(*) from marts.fct_instrument_returns where price_date = %s", DAY)[0] > 0
    assert history.one("select count(*) from warning.model_runs where as_of_date = %s", DAY)[0] > 0
    again = _ews(history, "quarantine", "show", _id(corpus, "price x100"))
    assert "state       replaced" in again.stdout and "replayed    by ops" in again.stdout
    # the other held-back price batches of the day are replaced too; nothing was deleted
    assert history.one("select count(*) from quarantine.batches where source = 'market_prices'")[0] == 7


def test_a_replay_that_still_fails_says_so(history: Bank, corpus: dict) -> None:
    done = _ews(history, "quarantine", "replay", _id(corpus, "empty file"))
    assert done.returncode == 1 and "held back again" in done.stdout and "empty_file" in done.stdout


def test_release_accepts_a_batch_as_it_is_with_a_note(history: Bank, corpus: dict) -> None:
    batch = _id(corpus, "volume collapse")
    refused = _ews(history, "quarantine", "release", batch)
    assert refused.returncode == 2 and "needs a note" in refused.stderr
    contract = _ews(history, "quarantine", "release", _id(corpus, "extra column"), "--note", "x")
    assert contract.returncode == 2 and "cannot be loaded as it is" in contract.stderr
    done = _ews(history, "quarantine", "release", batch, "--note", "branch network offline for a bank holiday", "--by", "ops")
    assert done.returncode == 0, done.stderr[-3000:]
    assert history.one("select status from audit.batches where batch_id = %s", batch) == ("passed",)
    assert history.one("select count(*) from raw.access_events where batch_id = %s", batch)[0] > 0
    assert history.one("select released_by, release_note from quarantine.batches where batch_id = %s", batch) == (
        "ops", "branch network offline for a bank holiday")


def test_the_clean_files_for_the_day_then_pass(history: Bank, corpus: dict) -> None:
    from warning_models.pipeline import ingest_days
    from warning_models.warehouse import connect

    held = history.settings.home / "clean_day"
    for source_dir in held.iterdir():
        for path in source_dir.iterdir():
            shutil.copy2(path, history.settings.landing_dir / source_dir.name / path.name)
    with connect(history.url) as conn:
        [report] = ingest_days(conn, history.url, history.settings, [DAY])
    assert report.quarantined == [] and report.missing == []
    assert history.one(
        "select count(*) from audit.batches where business_date = %s and status = 'passed'", DAY
    )[0] == len(list(held.iterdir())) + len(UPSTREAM_OF_DAY)
