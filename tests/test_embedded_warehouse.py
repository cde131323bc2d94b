"""Without EWS_DATABASE_URL, ews starts its own PostgreSQL (pgserver), reuses it, and every stage works on it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest

from warning_models.config import Settings, load_settings
from warning_models.gate import gate_batch
from warning_models.loader import load_file
from warning_models.transform import run_dbt
from warning_models.warehouse import migrate, stop_embedded, warehouse_url


@pytest.fixture(scope="module")
def embedded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    home = tmp_path_factory.mktemp("embedded")
    settings = load_settings({"EWS_HOME": str(home), "EWS_DBT_TARGET_DIR": str(home / "target")})
    assert settings.database_url is None
    yield settings
    stop_embedded(settings)


def test_the_embedded_warehouse_starts_once_and_is_reused(embedded: Settings) -> None:
    url = warehouse_url(embedded)
    assert "host=" in url and str(embedded.embedded_pgdata) in url
    assert warehouse_url(embedded) == url
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("select 1")
        assert cur.fetchone() == (1,)


def test_load_gate_and_dbt_run_on_the_embedded_warehouse(embedded: Settings, tmp_path: Path) -> None:
    url = warehouse_url(embedded)
    migrate(url)
    path = tmp_path / "prices.csv"
    path.write_text("instrument_id,price_date,close_price\nEQ01,2025-03-03,10\n")
    with psycopg2.connect(url) as conn:
        batch = load_file(conn, "market_prices", dt.date(2025, 3, 3), path).batch_id
        assert gate_batch(conn, url, batch).passed  # GX reaches the socket-only URL
    run_dbt(["run", "--select", "stg_market__prices"], url, embedded)  # and so does dbt
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("select instrument_id from staging.stg_market__prices")
        assert cur.fetchall() == [("EQ01",)]
