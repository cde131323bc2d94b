"""Throwaway benchmark databases on one PostgreSQL server: create, copy, drop, and what the server is set to.

EWS_BENCH_ADMIN_URL names a server where the benchmarks may create databases (default: the local server at
127.0.0.1:5432, user postgres). A copy is PostgreSQL's own (CREATE DATABASE ... TEMPLATE): a file copy, seconds for
the S and M banks.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg2
from psycopg2 import sql

DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
SETTINGS = ("server_version", "shared_buffers", "work_mem", "maintenance_work_mem", "max_wal_size",
            "synchronous_commit", "max_parallel_workers_per_gather", "effective_cache_size")


def admin_url() -> str:
    return os.environ.get("EWS_BENCH_ADMIN_URL", DEFAULT_ADMIN_URL)


def database_url(admin: str, name: str) -> str:
    base, _, query = admin.partition("?")
    return f"{base.rsplit('/', 1)[0]}/{name}" + (f"?{query}" if query else "")


@contextmanager
def _admin(admin: str) -> Iterator[Any]:
    conn = psycopg2.connect(admin)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            yield cur
    finally:
        conn.close()


def create(admin: str, name: str) -> str:
    """A new empty database (an old one of that name is dropped); its URL."""
    drop(admin, name)
    with _admin(admin) as cur:
        cur.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    return database_url(admin, name)


def copy(admin: str, source: str, name: str) -> str:
    """A copy of a database nobody is connected to; its URL."""
    drop(admin, name)
    with _admin(admin) as cur:
        cur.execute(
            "select pg_terminate_backend(pid) from pg_stat_activity where datname = %s and pid <> pg_backend_pid()",
            (source,),
        )
        cur.execute(sql.SQL("create database {} template {}").format(sql.Identifier(name), sql.Identifier(source)))
    return database_url(admin, name)


def drop(admin: str, name: str) -> None:
    with _admin(admin) as cur:
        cur.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


def server_settings(url: str) -> dict[str, str]:
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("select name, setting || coalesce(unit, '') from pg_settings where name = any(%s)", (list(SETTINGS),))
        found = dict(cur.fetchall())
    return {name: found.get(name, "") for name in SETTINGS}


def size_mib(url: str) -> float:
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("select pg_database_size(current_database())")
        return cur.fetchone()[0] / 2**20


def table_rows(url: str, tables: tuple[str, ...]) -> dict[str, int]:
    """Estimated rows of some tables (the planner's count, instant)."""
    out = {}
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        for table in tables:
            cur.execute("select coalesce(to_regclass(%s), null)::text", (table,))
            if cur.fetchone()[0] is None:
                continue
            cur.execute("select greatest(reltuples, 0)::bigint from pg_class where oid = %s::regclass", (table,))
            out[table] = int(cur.fetchone()[0])
    return out
