"""Settings, read once from the environment into a frozen dataclass.

EWS_DATABASE_URL   Postgres URL of the warehouse. Unset: an embedded PostgreSQL under $EWS_HOME/pgdata.
EWS_HOME           Local state folder (embedded warehouse, landing, truth). Default: ./.ews
EWS_LANDING_DIR    Where extract jobs drop CSV files. Default: $EWS_HOME/landing
EWS_TRUTH_PATH     Ground-truth episodes of the synthetic bank, outside the warehouse. Default: $EWS_HOME/truth.json
EWS_DBT_PROJECT_DIR  The dbt project. Default: the repository's dbt_project/
EWS_DBT_TARGET_DIR   Where dbt writes artifacts. Default: <dbt project>/target
EWS_GX_HOME        Great Expectations results (JSON) and the Data Docs site. Default: $EWS_HOME/gx
EWS_GATE_CONFIG    The gate's severities and thresholds. Default: the repository's expectations/gate.toml
EWS_WAREHOUSE_CSVLOG  A glob of the warehouse's own PostgreSQL csvlog files: each day's events join that day's
                   access_events before it is loaded (docs/access_risk.md). Default: unset, not monitored
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

from warning_models.errors import ConfigError
from warning_models.roles import role_of

REPO_ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Settings:
    database_url: str | None
    home: Path
    landing_dir: Path
    truth_path: Path
    dbt_project_dir: Path
    dbt_target_dir: Path
    gx_home: Path
    warehouse_csvlog: str | None = None

    @property
    def embedded_pgdata(self) -> Path:
        return self.home / "pgdata"

    def with_overrides(self, **changes: object) -> "Settings":
        return replace(self, **changes)  # type: ignore[arg-type]


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ
    home = Path(env.get("EWS_HOME") or Path.cwd() / ".ews").resolve()
    url = env.get("EWS_DATABASE_URL") or None
    if url is not None and not url.startswith(("postgresql://", "postgres://")):
        raise ConfigError(f"EWS_DATABASE_URL must be a postgresql:// URL, got {url.split('@')[-1]!r}")
    dbt_dir = Path(env.get("EWS_DBT_PROJECT_DIR") or REPO_ROOT / "dbt_project").resolve()
    return Settings(
        database_url=url,
        home=home,
        landing_dir=Path(env.get("EWS_LANDING_DIR") or home / "landing").resolve(),
        truth_path=Path(env.get("EWS_TRUTH_PATH") or home / "truth.json").resolve(),
        dbt_project_dir=dbt_dir,
        dbt_target_dir=Path(env.get("EWS_DBT_TARGET_DIR") or dbt_dir / "target").resolve(),
        gx_home=Path(env.get("EWS_GX_HOME") or home / "gx").resolve(),
        warehouse_csvlog=env.get("EWS_WAREHOUSE_CSVLOG") or None,
    )


@dataclass(frozen=True)
class ConnectionParts:
    """A Postgres URL taken apart, as dbt's profiles.yml needs it."""

    host: str
    port: int
    user: str
    password: str
    dbname: str
    role: str = ""  # set at connection start (warning_models.roles); empty: the login's own

    def dbt_env(self) -> dict[str, str]:
        """Environment variables read by dbt_project/profiles.yml."""
        return {
            "EWS_PGHOST": self.host,
            "EWS_PGPORT": str(self.port),
            "EWS_PGUSER": self.user,
            "EWS_PGPASSWORD": self.password,
            "EWS_PGDATABASE": self.dbname,
            "EWS_PGROLE": self.role,
        }


def parse_url(url: str) -> ConnectionParts:
    """Split a libpq URL; a `host=` query parameter (a Unix socket folder) wins over the netloc host."""
    parsed = urlparse(url)
    query = parse_qs(parsed.query)
    host = query.get("host", [parsed.hostname or "localhost"])[0]
    port = int(query.get("port", [parsed.port or 5432])[0])
    return ConnectionParts(
        host=host,
        port=port,
        user=unquote(parsed.username or query.get("user", ["postgres"])[0]),
        password=unquote(parsed.password or ""),
        dbname=(parsed.path or "/postgres").lstrip("/") or "postgres",
        role=role_of(url) or "",
    )
