"""Loading landing files: idempotent batches, supersession, and contract breaks named by file, line and rule."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import psycopg2
import pytest

from warning_models.errors import Rule
from warning_models.loader import LoadStatus, load_file

DAY = dt.date(2025, 3, 3)
HEADER = "instrument_id,price_date,close_price\n"


def _write(tmp_path: Path, text: str | bytes, name: str = "2025-03-03.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


def _rows(url: str, sql: str) -> list[tuple]:
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute(sql)
        return cur.fetchall()


def test_load_is_idempotent_and_numbers_rows_by_file_line(warehouse: str, tmp_path: Path) -> None:
    path = _write(tmp_path, HEADER + "EQ01,2025-03-03,10.5\nEQ02,2025-03-03,20\n")
    with psycopg2.connect(warehouse) as conn:
        first = load_file(conn, "market_prices", DAY, path)
        again = load_file(conn, "market_prices", DAY, path)
    assert first.status is LoadStatus.LOADED and first.row_count == 2
    assert again.status is LoadStatus.UNCHANGED and again.batch_id == first.batch_id
    assert _rows(warehouse, "select source_line, instrument_id from raw.market_prices order by 1") == [(2, "EQ01"), (3, "EQ02")]
    assert _rows(warehouse, "select count(*), min(row_count), min(file_checksum) is not null from audit.batches") == [(1, 2, True)]


def test_columns_in_any_order_are_loaded_by_name(warehouse: str, tmp_path: Path) -> None:
    path = _write(tmp_path, "close_price,instrument_id,price_date\n10.5,EQ01,2025-03-03\n")
    with psycopg2.connect(warehouse) as conn:
        assert load_file(conn, "market_prices", DAY, path).status is LoadStatus.LOADED
    assert _rows(warehouse, "select instrument_id, close_price::text from raw.market_prices") == [("EQ01", "10.5")]


def test_a_corrected_file_supersedes_the_earlier_batch(warehouse: str, tmp_path: Path) -> None:
    with psycopg2.connect(warehouse) as conn:
        old = load_file(conn, "market_prices", DAY, _write(tmp_path, HEADER + "EQ01,2025-03-03,10\n", "a.csv"))
        new = load_file(conn, "market_prices", DAY, _write(tmp_path, HEADER + "EQ01,2025-03-03,11\nEQ02,2025-03-03,5\n", "b.csv"))
    assert new.status is LoadStatus.LOADED
    assert _rows(warehouse, "select count(*), sum(close_price) from raw.market_prices") == [(2, 16)]
    statuses = dict(_rows(warehouse, "select batch_id, status from audit.batches"))
    assert statuses == {old.batch_id: "superseded", new.batch_id: "loaded"}


@pytest.mark.parametrize(
    ("content", "line", "rule", "words"),
    [
        (b"", None, Rule.EMPTY_FILE, "empty"),
        (HEADER.replace(",close_price", "") + "EQ01,2025-03-03\n", 1, Rule.HEADER, "missing ['close_price']"),
        (HEADER.strip() + ",venue\nEQ01,2025-03-03,1,X\n", 1, Rule.HEADER, "unexpected ['venue']"),
        (HEADER + "EQ01,2025-03-03,1\nEQ02,2025-03-03\n", 3, Rule.COLUMN_COUNT, "2 fields"),
        (HEADER + "EQ01,2025-03-03,1\nEQ02,2025-03-03,ten\n", 3, Rule.TYPE, "close_price (numeric)"),
        (HEADER + "EQ01,03/03/2025,1\n", 2, Rule.TYPE, "price_date (date)"),
        (HEADER + "EQ01,2025-03-03,1\n,2025-03-03,2\n", 3, Rule.NOT_NULL, "instrument_id"),
        (HEADER.encode() + b"EQ01,2025-03-03,1\n\xff\xfeQ02,2025-03-03,2\n", 3, Rule.ENCODING, "not UTF-8"),
        (HEADER + 'EQ01,2025-03-03,"1\n', 2, Rule.CSV_SYNTAX, ""),
    ],
    ids=["empty", "missing-column", "extra-column", "short-row", "bad-number", "bad-date", "null-key", "latin1", "unclosed-quote"],
)
def test_contract_breaks_are_quarantined_with_file_line_and_rule(
    warehouse: str, tmp_path: Path, content: bytes | str, line: int | None, rule: Rule, words: str
) -> None:
    path = _write(tmp_path, content)
    with psycopg2.connect(warehouse) as conn:
        result = load_file(conn, "market_prices", DAY, path)
    assert result.status is LoadStatus.REJECTED
    assert result.error is not None
    assert (result.error.line, result.error.rule) == (line, rule)
    assert words in result.error.detail
    assert str(path) in str(result.error)
    assert _rows(warehouse, "select count(*) from raw.market_prices") == [(0,)]
    kept = _rows(warehouse, "select file_content, reason, failures->0->>'rule' from quarantine.batches")
    assert [(bytes(kept[0][0]), kept[0][1], kept[0][2])] == [(path.read_bytes(), "landing_contract", rule.value)]


def test_a_broken_correction_leaves_the_good_batch_live(warehouse: str, tmp_path: Path) -> None:
    with psycopg2.connect(warehouse) as conn:
        good = load_file(conn, "market_prices", DAY, _write(tmp_path, HEADER + "EQ01,2025-03-03,10\n", "a.csv"))
        bad = load_file(conn, "market_prices", DAY, _write(tmp_path, HEADER + "EQ01,2025-03-03,x\n", "b.csv"))
    assert bad.status is LoadStatus.REJECTED
    assert dict(_rows(warehouse, "select batch_id, status from audit.batches")) == {good.batch_id: "loaded", bad.batch_id: "quarantined"}
    assert _rows(warehouse, "select count(*) from raw.market_prices") == [(1,)]


def test_the_planner_knows_each_new_batch_of_a_grown_table(warehouse: str, tmp_path: Path) -> None:
    """After a table has many batches, the newest one's rows are still estimated from statistics that hold it (an
    unknown batch id is planned as one row, and the gate's self-joins over it then run as nested loops)."""
    instruments = [f"EQ{i:04d}" for i in range(300)]
    with psycopg2.connect(warehouse) as conn:
        for n in range(14):
            day = DAY + dt.timedelta(days=n)
            body = "".join(f"{i},{day},{10 + n}\n" for i in instruments)
            result = load_file(conn, "market_prices", day, _write(tmp_path, HEADER + body, f"{day}.csv"))
            assert result.status is LoadStatus.LOADED
        with conn.cursor() as cur:
            cur.execute("explain (format json) select * from raw.market_prices where batch_id = %s", (result.batch_id,))
            estimated = cur.fetchone()[0][0]["Plan"]["Plan Rows"]
    assert abs(estimated - len(instruments)) <= 0.2 * len(instruments), estimated



def test_a_long_history_is_not_analysed_again_for_each_new_batch(warehouse: str, tmp_path: Path) -> None:
    """Once a table holds more batches than its statistics list, a new batch is estimated at the average batch
    without an ANALYZE: loading a day costs what the day costs, not what the history costs (up to ~0.5 s a table)."""
    instruments = [f"EQ{i:04d}" for i in range(300)]
    with psycopg2.connect(warehouse) as conn, conn.cursor() as cur:  # 400 days of history, written directly
        cur.execute(
            "insert into audit.batches (batch_id, source, business_date, file_name, file_checksum, row_count, status)"
            " select 'market_prices:' || d || ':000000000000', 'market_prices', d, 'history.csv', '-', 300, 'passed'"
            " from generate_series(%s::date - 400, %s::date - 1, interval '1 day') as g, lateral (select g::date as d) as x",
            (DAY, DAY),
        )
        cur.execute(
            "insert into raw.market_prices (batch_id, source_line, instrument_id, price_date, close_price)"
            " select b.batch_id, i + 1, 'EQ' || lpad(i::text, 4, '0'), b.business_date, 10"
            " from audit.batches as b, generate_series(1, 300) as i"
        )
        cur.execute("analyze raw.market_prices")
        cur.execute("select reltuples from pg_class where oid = 'raw.market_prices'::regclass")
        before = cur.fetchone()[0]
    body = "".join(f"{i},{DAY},11\n" for i in instruments)
    with psycopg2.connect(warehouse) as conn:
        result = load_file(conn, "market_prices", DAY, _write(tmp_path, HEADER + body, f"{DAY}.csv"))
    assert result.status is LoadStatus.LOADED
    with psycopg2.connect(warehouse) as conn, conn.cursor() as cur:
        cur.execute("select reltuples from pg_class where oid = 'raw.market_prices'::regclass")
        assert cur.fetchone()[0] == before  # no ANALYZE of the table
        cur.execute("explain (format json) select * from raw.market_prices where batch_id = %s", (result.batch_id,))
        estimated = cur.fetchone()[0][0]["Plan"]["Plan Rows"]
    assert abs(estimated - len(instruments)) <= 0.2 * len(instruments), estimated

def test_statistics_of_a_table_that_grew_since_its_last_analyse_are_refreshed(warehouse: str, tmp_path: Path) -> None:
    """Statistics taken at 150 batches still count 150 batches after 1,000 more (no autovacuum on the server, or
    between its runs): each batch is then planned at seven times its rows and dbt reads the whole raw table instead
    of a day's batches. Loading the next batch refreshes them, and the new count is within a factor of two."""
    instruments = [f"EQ{i:04d}" for i in range(300)]

    def write_days(cur: psycopg2.extensions.cursor, first: int, last: int) -> None:
        cur.execute(
            "insert into audit.batches (batch_id, source, business_date, file_name, file_checksum, row_count, status)"
            " select 'market_prices:' || d || ':000000000000', 'market_prices', d, 'history.csv', '-', 300, 'passed'"
            " from generate_series(%s::date - %s, %s::date - %s, interval '1 day') as g, lateral (select g::date as d) x",
            (DAY, first, DAY, last),
        )
        cur.execute(
            "insert into raw.market_prices (batch_id, source_line, instrument_id, price_date, close_price)"
            " select b.batch_id, i + 1, 'EQ' || lpad(i::text, 4, '0'), b.business_date, 10"
            " from audit.batches as b, generate_series(1, 300) as i"
            " where b.source = 'market_prices' and b.business_date between %s::date - %s and %s::date - %s",
            (DAY, first, DAY, last),
        )

    with psycopg2.connect(warehouse) as conn, conn.cursor() as cur:
        write_days(cur, 1150, 1001)  # 150 days (more than the statistics' list of common values), analysed
        cur.execute("analyze raw.market_prices")
        write_days(cur, 1000, 1)  # 1,000 more, not analysed
    body = "".join(f"{i},{DAY},11\n" for i in instruments)
    with psycopg2.connect(warehouse) as conn:
        result = load_file(conn, "market_prices", DAY, _write(tmp_path, HEADER + body, f"{DAY}.csv"))
    assert result.status is LoadStatus.LOADED
    with psycopg2.connect(warehouse) as conn, conn.cursor() as cur:
        cur.execute("select n_distinct from pg_stats where schemaname = 'raw' and tablename = 'market_prices'"
                    " and attname = 'batch_id'")
        n_distinct = cur.fetchone()[0]
        cur.execute("select reltuples from pg_class where oid = 'raw.market_prices'::regclass")
        rows = cur.fetchone()[0]
    batches = -n_distinct * rows if n_distinct < 0 else n_distinct
    assert 1151 / 2 <= batches <= 1151 * 2, (n_distinct, rows)


def test_every_raw_row_names_a_batch_the_audit_trail_holds(warehouse: str, tmp_path: Path) -> None:
    """The lineage rule, checked once per statement (migration 0013): a raw row naming an unknown batch is refused
    whether it comes by INSERT, COPY or UPDATE, and audit.batches keeps a batch that raw rows still name."""
    with psycopg2.connect(warehouse) as conn:
        loaded = load_file(conn, "market_prices", DAY, _write(tmp_path, HEADER + "EQ01,2025-03-03,10\n"))
    attempts = [
        "insert into raw.market_prices (batch_id, source_line, instrument_id) values ('no:such:batch', 2, 'EQ09')",
        "copy raw.market_prices (batch_id, source_line, instrument_id) from program 'echo no:such:batch,2,EQ09'"
        " with (format csv)",
        "update raw.market_prices set batch_id = 'no:such:batch'",
        f"delete from audit.batches where batch_id = '{loaded.batch_id}'",
        f"update audit.batches set batch_id = 'renamed' where batch_id = '{loaded.batch_id}'",
    ]
    for statement in attempts:
        with psycopg2.connect(warehouse) as conn, conn.cursor() as cur:
            with pytest.raises(psycopg2.errors.ForeignKeyViolation) as refused:
                cur.execute(statement)
            assert "no:such:batch" in str(refused.value) or loaded.batch_id in str(refused.value), statement
    assert _rows(warehouse, "select batch_id, count(*) from raw.market_prices group by 1") == [(loaded.batch_id, 1)]
    # rows of known batches pass, a statement of many rows and batches at once included
    with psycopg2.connect(warehouse) as conn, conn.cursor() as cur:
        cur.execute("insert into raw.market_prices (batch_id, source_line, instrument_id)"
                    " select batch_id, source_line + 100, instrument_id from raw.market_prices")
    assert _rows(warehouse, "select count(*) from raw.market_prices") == [(2,)]
