"""airflow-init's steps after the migrations (docker-compose.yaml): the jobs' logins and Airflow's admin user.

    python ews_init.py logins           one login per job, a member of the job's role (docs/security.md)
    python ews_init.py admin-password   the admin's password file of Airflow's simple auth manager

`ews warehouse migrate` (run just before, as the warehouse owner `ews`, who has CREATEROLE) creates the group
roles; this script gives each job its own login in its role, connected as the same owner (EWS_DATABASE_URL).
Idempotent: a login that exists gets the current password and its membership back.

Passwords come from the environment only, and reach the server as SCRAM-SHA-256 verifiers computed by libpq
(PQencryptPasswordConn, as psql's \\password does): neither the SQL text nor the server's statement log ever holds
a password. Nothing here prints one.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

import psycopg2
import psycopg2.extensions
from psycopg2 import sql

from warning_models.roles import JobRole


@dataclass(frozen=True)
class Login:
    """A login (a PostgreSQL role that can log in) that is a member of one job's group role."""

    name: str
    role: JobRole
    password_variable: str
    required: bool = True
    # per-login settings (ALTER ROLE ... SET): a second guard beside the role's grants
    settings: tuple[tuple[str, str], ...] = ()

    @property
    def url_variable(self) -> str | None:
        """The variable holding the URL the jobs connect with as this login (None: used outside this stack)."""
        return self.role.url_variable if self.role in JOB_ROLES else None


JOB_ROLES = (JobRole.LOADER, JobRole.TRANSFORMER, JobRole.MODELER)

LOGINS: tuple[Login, ...] = (
    Login("ews_loader_login", JobRole.LOADER, "EWS_LOADER_PASSWORD"),
    Login("ews_transformer_login", JobRole.TRANSFORMER, "EWS_TRANSFORMER_PASSWORD"),
    Login("ews_modeler_login", JobRole.MODELER, "EWS_MODELER_PASSWORD"),
    # the BI tool's read-only login, as docs/bi_quickstart.md creates it by hand; only when its password is set
    Login(
        "superset",
        JobRole.BI_READER,
        "EWS_BI_PASSWORD",
        required=False,
        settings=(("default_transaction_read_only", "on"), ("statement_timeout", "2min")),
    ),
)


class InitError(RuntimeError):
    """A misconfiguration airflow-init must stop on (the services would not work)."""


def passwords_from_env(logins: Sequence[Login], environ: Mapping[str, str]) -> dict[str, str]:
    """Each login's password, by login name; an optional login without one is left out.

    A job's URL must carry the same user and password (a password with URL-reserved characters would be cut
    short in the URL: the job could not log in), so a mismatch is an error here rather than at the first run.
    """
    found: dict[str, str] = {}
    for login in logins:
        password = environ.get(login.password_variable, "")
        if not password:
            if login.required:
                raise InitError(f"{login.password_variable} is not set: the login {login.name} needs a password")
            continue
        if login.url_variable and environ.get(login.url_variable):
            parts = urlsplit(environ[login.url_variable])
            if parts.username != login.name or unquote(parts.password or "") != password:
                raise InitError(
                    f"{login.url_variable} must log in as {login.name} with {login.password_variable} "
                    "(use URL-safe passwords, e.g. openssl rand -hex 24)"
                )
        found[login.name] = password
    return found


def _role_exists(cur: psycopg2.extensions.cursor, name: str) -> bool:
    cur.execute("select 1 from pg_roles where rolname = %s", (name,))
    return cur.fetchone() is not None


def ensure_logins(
    conn: psycopg2.extensions.connection, logins: Sequence[Login], passwords: Mapping[str, str]
) -> list[str]:
    """Create or update each login that has a password, in one transaction; return what was done, per login."""
    done: list[str] = []
    with conn.cursor() as cur:
        cur.execute("select current_database()")
        (database,) = cur.fetchone()
        for login in logins:
            if login.name not in passwords:
                done.append(f"{login.name}: skipped ({login.password_variable} not set)")
                continue
            if not _role_exists(cur, login.role):
                raise InitError(f"role {login.role} does not exist: run `ews warehouse migrate` first")
            verifier = psycopg2.extensions.encrypt_password(passwords[login.name], login.name, conn, "scram-sha-256")
            name, role = sql.Identifier(login.name), sql.Identifier(login.role)
            if _role_exists(cur, login.name):
                cur.execute(sql.SQL("alter role {} with login password %s").format(name), (verifier,))
                action = "password updated"
            else:
                cur.execute(sql.SQL("create role {} with login password %s in role {}").format(name, role), (verifier,))
                action = "created"
            cur.execute("select pg_has_role(%s, %s, 'member')", (login.name, login.role))
            if not cur.fetchone()[0]:
                cur.execute(sql.SQL("grant {} to {}").format(role, name))
            for key, value in login.settings:
                cur.execute(sql.SQL("alter role {} set {} = %s").format(name, sql.Identifier(key)), (value,))
            # initdb/01-databases.sh takes CONNECT on the warehouse away from PUBLIC: the job's role gets it back
            cur.execute(sql.SQL("grant connect on database {} to {}").format(sql.Identifier(database), role))
            done.append(f"{login.name}: {action}, member of {login.role}")
    conn.commit()
    return done


def write_admin_password(path: Path, username: str, password: str) -> None:
    """The simple auth manager's password file ({user: password}), readable by its owner only."""
    if not password:
        raise InitError("AIRFLOW_ADMIN_PASSWORD is not set")
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as stream:
        stream.write(json.dumps({username: password}) + "\n")
    os.chmod(partial, 0o600)
    os.replace(partial, path)


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    env = os.environ if environ is None else environ
    parser = argparse.ArgumentParser(prog="ews_init.py", description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=["logins", "admin-password"])
    args = parser.parse_args(argv)
    try:
        if args.step == "logins":
            url = env.get("EWS_DATABASE_URL")
            if not url:
                raise InitError("EWS_DATABASE_URL is not set (the warehouse, as its owner)")
            passwords = passwords_from_env(LOGINS, env)
            conn = psycopg2.connect(url, application_name="ews_init")
            try:
                for line in ensure_logins(conn, LOGINS, passwords):
                    print(line)
            finally:
                conn.close()
        else:
            configured = env.get("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE")
            path = Path(configured or "/opt/airflow/auth/passwords.json")
            username = env.get("AIRFLOW_ADMIN_USERNAME") or "admin"
            write_admin_password(path, username, env.get("AIRFLOW_ADMIN_PASSWORD", ""))
            print(f"Airflow user {username!r}: password set in {path}")
    except InitError as exc:
        print(f"ews_init: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
