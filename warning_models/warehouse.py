"""The warehouse: which PostgreSQL, how to connect, and the migrations ews owns.

EWS_DATABASE_URL picks the server. Without it an embedded PostgreSQL (pgserver) is started in
$EWS_HOME/pgdata and left running, so every later command (and Airflow) reuses it.
"""

from __future__ import annotations

import atexit
import hashlib
import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources

import psycopg2
import psycopg2.extensions

from warning_models.config import Settings, load_settings
from warning_models.errors import MigrationError, WarehouseError

log = logging.getLogger(__name__)

MIGRATION_LOCK_KEY = 0x45575301  # pg_advisory_lock key: "EWS" + 1


def warehouse_url(settings: Settings | None = None) -> str:
    """The warehouse URL: EWS_DATABASE_URL, or the embedded server's (started if needed)."""
    settings = settings or load_settings()
    if settings.database_url:
        return settings.database_url
    return start_embedded(settings)


def start_embedded(settings: Settings) -> str:
    """Start (or find running) the embedded PostgreSQL in $EWS_HOME/pgdata and return its URL."""
    with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset; harmless here
        warnings.simplefilter("ignore")
        import pgserver  # heavy: only when the embedded warehouse is used

    settings.home.mkdir(parents=True, exist_ok=True)
    try:
        server = pgserver.get_server(settings.embedded_pgdata, cleanup_mode=None)
    except Exception as exc:  # pgserver raises plain exceptions with the postgres log
        raise WarehouseError(f"could not start the embedded PostgreSQL in {settings.embedded_pgdata}: {exc}") from exc
    return server.get_uri()


def stop_embedded(settings: Settings) -> bool:
    """Stop the embedded PostgreSQL if it runs; return whether one was running. Its data stays."""
    if not (settings.embedded_pgdata / "postmaster.pid").exists():
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgserver

    server = pgserver.get_server(settings.embedded_pgdata, cleanup_mode=None)
    server.cleanup_mode = "stop"
    server.cleanup()
    atexit.unregister(server._cleanup)  # already done; its exit hook would only log into closed streams
    return True


@contextmanager
def connect(url: str | None = None, *, autocommit: bool = False) -> Iterator[psycopg2.extensions.connection]:
    """A connection that commits on success and rolls back on error."""
    url = url or warehouse_url()
    try:
        conn = psycopg2.connect(url, application_name="ews")
    except psycopg2.OperationalError as exc:
        raise WarehouseError(f"cannot connect to the warehouse: {str(exc).strip()}") from exc
    conn.autocommit = autocommit
    try:
        yield conn
        if not autocommit:
            conn.commit()
    except BaseException:
        if not autocommit:
            conn.rollback()
        raise
    finally:
        conn.close()


def _migration_files() -> list[tuple[str, str]]:
    folder = resources.files("warning_models") / "migrations"
    files = sorted(p for p in folder.iterdir() if p.name.endswith(".sql"))
    return [(p.name.removesuffix(".sql"), p.read_text(encoding="utf-8")) for p in files]


def migrate(url: str | None = None) -> list[str]:
    """Apply pending migrations in order, each in its own transaction; return the versions applied.

    Safe to run concurrently (advisory lock) and repeatedly (applied versions are skipped). A migration whose
    text changed after it was applied is an error: write a new migration instead.
    """
    applied_now: list[str] = []
    with connect(url) as conn, conn.cursor() as cur:
        cur.execute("select pg_advisory_xact_lock(%s)", (MIGRATION_LOCK_KEY,))
        cur.execute("create schema if not exists audit")
        cur.execute(
            """create table if not exists audit.schema_migrations (
                   version text primary key, checksum text not null, applied_at timestamptz not null default now())"""
        )
        cur.execute("select version, checksum from audit.schema_migrations")
        applied = dict(cur.fetchall())
        for version, sql_text in _migration_files():
            checksum = hashlib.sha256(sql_text.encode()).hexdigest()
            if version in applied:
                if applied[version] != checksum:
                    raise MigrationError(version, "changed after it was applied; add a new migration instead")
                continue
            try:
                cur.execute(sql_text)
            except psycopg2.Error as exc:
                raise MigrationError(version, str(exc).strip()) from exc
            cur.execute("insert into audit.schema_migrations (version, checksum) values (%s, %s)", (version, checksum))
            applied_now.append(version)
            log.info("applied migration %s", version)
        # The job roles' grants on every table the migrations made, a new one included (migration 0007).
        cur.execute("select audit.grant_job_privileges()")
    return applied_now
