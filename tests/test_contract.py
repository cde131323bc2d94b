"""The landing contract in code, in the migrations and in docs/ say the same thing."""

from __future__ import annotations

import re

import psycopg2

from warning_models.config import REPO_ROOT
from warning_models.contract import SOURCES


def test_every_column_and_type_is_documented() -> None:
    doc = (REPO_ROOT / "docs" / "landing_contract.md").read_text()
    for source in SOURCES.values():
        section = doc.split(f"## `{source.name}`", 1)[1].split("\n## ", 1)[0]
        rows = dict(re.findall(r"^\| `(\w+)` \| (\w+) \|", section, flags=re.M))
        assert rows == {c.name: c.type.value for c in source.columns}, source.name


def test_raw_tables_carry_the_contract_columns_with_their_types(warehouse: str) -> None:
    with psycopg2.connect(warehouse) as conn, conn.cursor() as cur:
        for source in SOURCES.values():
            cur.execute(
                """select column_name, data_type from information_schema.columns
                   where table_schema = 'raw' and table_name = %s order by ordinal_position""",
                (source.name,),
            )
            columns = dict(cur.fetchall())
            expected = {c.name: c.type.sql for c in source.columns}
            got = {k: v.replace("timestamp with time zone", "timestamptz") for k, v in columns.items() if k in expected}
            assert got == expected, source.name
            assert set(columns) - set(expected) == {"batch_id", "source_line"}


def test_migrations_are_idempotent(warehouse: str) -> None:
    from warning_models.warehouse import migrate

    assert migrate(warehouse) == []


def test_the_warehouse_calendar_is_the_contract_calendar(warehouse: str) -> None:
    import datetime as dt

    import psycopg2

    from warning_models.contract import is_trading_day

    days = [dt.date(2024, 1, 1) + dt.timedelta(days=i) for i in range(3 * 366)]
    with psycopg2.connect(warehouse) as conn, conn.cursor() as cur:
        cur.execute("select d, audit.is_trading_day(d) from unnest(%s::date[]) as d", (days,))
        in_sql = dict(cur.fetchall())
    assert in_sql == {d: is_trading_day(d) for d in days}
