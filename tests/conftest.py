"""Shared fixtures: a real PostgreSQL server, a fresh migrated database per need, a small synthetic bank.

EWS_TEST_ADMIN_URL names a server where the tests may create and drop databases (default: the local server at
127.0.0.1:5432). When none answers, an embedded PostgreSQL (pgserver) is started for the session.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg2
import pytest

import warning_models  # noqa: F401  (switches telemetry off before anything else loads)
from warning_models.config import Settings, load_settings
from warning_models.warehouse import migrate

DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"

# Airflow reads its settings at import: give the test session its own home and SQLite metadata DB.
_AIRFLOW_HOME = tempfile.mkdtemp(prefix="ews-test-airflow-")
os.environ.update(
    {
        "AIRFLOW_HOME": _AIRFLOW_HOME,
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(Path(__file__).resolve().parents[1] / "dags"),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{_AIRFLOW_HOME}/airflow.db",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
    }
)
# Test keys of the keyed pseudonyms (warning_models.pseudonyms): known values, so the tests can recompute them.
TEST_PSEUDONYM_KEY = "test-pseudonym-key-0123456789abcdef"
TEST_CONSORTIUM_KEY = "test-consortium-key-0123456789abcdef"
os.environ["EWS_PSEUDONYM_KEY"] = TEST_PSEUDONYM_KEY
os.environ["EWS_CONSORTIUM_KEY"] = TEST_CONSORTIUM_KEY
_counter = itertools.count()


def _server_answers(url: str) -> bool:
    try:
        psycopg2.connect(url, connect_timeout=3).close()
        return True
    except psycopg2.OperationalError:
        return False


@pytest.fixture(scope="session")
def admin_url() -> Iterator[str]:
    url = os.environ.get("EWS_TEST_ADMIN_URL", DEFAULT_ADMIN_URL)
    if _server_answers(url):
        yield url
        return
    import pgserver

    folder = tempfile.mkdtemp(prefix="ews-test-pg-")
    server = pgserver.get_server(folder, cleanup_mode="delete")
    yield server.get_uri()
    server.cleanup()


def _with_database(admin: str, name: str) -> str:
    base, _, query = admin.partition("?")
    base = base.rsplit("/", 1)[0]
    return f"{base}/{name}" + (f"?{query}" if query else "")


@pytest.fixture(scope="session")
def make_database(admin_url: str) -> Iterator[Callable[[], str]]:
    """Factory: a new, migrated, empty warehouse database; all are dropped at the end of the session."""
    created: list[str] = []

    def make() -> str:
        name = f"ews_test_{os.getpid()}_{next(_counter)}"
        conn = psycopg2.connect(admin_url)
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(f'drop database if exists "{name}"')
            cur.execute(f'create database "{name}"')
        conn.close()
        created.append(name)
        url = _with_database(admin_url, name)
        migrate(url)
        return url

    yield make
    conn = psycopg2.connect(admin_url)
    conn.autocommit = True
    with conn.cursor() as cur:
        for name in created:
            cur.execute(f'drop database if exists "{name}" with (force)')
    conn.close()


@pytest.fixture
def warehouse(make_database: Callable[[], str]) -> str:
    return make_database()


def settings_for(home: Path, url: str) -> Settings:
    return load_settings({"EWS_HOME": str(home), "EWS_DATABASE_URL": url})


# A small bank: enough history for every indicator, small enough for CI.
SMALL_BANK = dict(start_date=dt.date(2025, 1, 1), days=130, n_borrowers=500, n_instruments=10, n_users=20, n_economies=4, seed=7)


START: dt.date = SMALL_BANK["start_date"]  # type: ignore[assignment]
END = START + dt.timedelta(days=int(SMALL_BANK["days"]) - 1)  # type: ignore[call-overload]


@pytest.fixture(scope="session")
def small_bank(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """EWS_HOME of a generated small bank (landing files and truth file)."""
    from warning_models.generator import BankConfig, generate_bank

    home = tmp_path_factory.mktemp("bank")
    settings = load_settings({"EWS_HOME": str(home)})
    generate_bank(BankConfig(**SMALL_BANK), settings.landing_dir, settings.truth_path, progress=False)
    return home


@pytest.fixture(scope="session")
def dbt_target(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A dbt target folder holding manifest.json from `dbt parse` (no database needed), for Cosmos."""
    from warning_models.transform import run_dbt

    target = tmp_path_factory.mktemp("dbt_target")
    settings = load_settings({"EWS_HOME": str(target), "EWS_DBT_TARGET_DIR": str(target)})
    run_dbt(["parse"], "postgresql://parse-only@localhost:5432/none", settings)
    assert (target / "manifest.json").is_file()
    return target


@pytest.fixture(scope="session")
def bank_run(small_bank: Path, make_database: Callable[[], str]) -> tuple[str, Path, list]:  # type: ignore[type-arg]
    """A warehouse after the daily pipeline ran over every day of the small bank: (url, EWS_HOME, day reports)."""
    from warning_models.pipeline import backfill

    url = make_database()
    reports = backfill(START, END, settings=settings_for(small_bank, url), url=url)
    return url, small_bank, reports
