"""Which PostgreSQL role each job runs as (least privilege; migration 0007 creates the roles and their grants).

A job connects with its own URL when one is set (``EWS_LOADER_DATABASE_URL`` and so on: a login that is a
member of the job's role), else with the warehouse URL. Either way the job's role is set when the connection
starts (libpq ``options=-c role=...``), so every statement the job sends is checked against that role's grants,
whether it comes from psycopg2, SQLAlchemy (Great Expectations) or dbt.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from enum import StrEnum
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit


class JobRole(StrEnum):
    """A job's PostgreSQL group role."""

    LOADER = "ews_loader"  # load + gate + quarantine: raw, audit trail, quarantine, data-quality alerts
    TRANSFORMER = "ews_transformer"  # dbt: reads raw, owns staging / intermediate / marts / seeds / bi
    MODELER = "ews_modeler"  # indicators and evaluation: reads marts, writes warning
    BI_READER = "ews_bi_reader"  # BI tools: warning tables and the masked views of schema bi
    AUDITOR = "ews_auditor"  # reads audit

    @property
    def url_variable(self) -> str:
        """The environment variable that may hold this job's own connection URL."""
        return f"EWS_{self.name}_DATABASE_URL"


def _options_without_role(options: str) -> str:
    parts = options.split()
    kept: list[str] = []
    i = 0
    while i < len(parts):
        if parts[i] == "-c" and i + 1 < len(parts) and parts[i + 1].startswith("role="):
            i += 2
            continue
        if parts[i].startswith("-crole="):
            i += 1
            continue
        kept.append(parts[i])
        i += 1
    return " ".join(kept)


def with_role(url: str, role: JobRole | str) -> str:
    """``url`` with the role set at connection start (an earlier role setting in it is replaced)."""
    parsed = urlsplit(url)
    query = parse_qsl(parsed.query, keep_blank_values=True)
    options = " ".join(_options_without_role(v) for k, v in query if k == "options").strip()
    rest = [(k, v) for k, v in query if k != "options"]
    rest.append(("options", f"{options} -c role={role}".strip()))
    return urlunsplit(parsed._replace(query=urlencode(rest, quote_via=quote)))


def role_of(url: str) -> str | None:
    """The role a URL sets at connection start, if any."""
    for key, value in parse_qsl(urlsplit(url).query, keep_blank_values=True):
        if key != "options":
            continue
        parts = unquote(value).split()
        for i, part in enumerate(parts):
            if part == "-c" and i + 1 < len(parts) and parts[i + 1].startswith("role="):
                return parts[i + 1].removeprefix("role=")
            if part.startswith("-crole="):
                return part.removeprefix("-crole=")
    return None


def job_url(url: str, role: JobRole, environ: Mapping[str, str] | None = None) -> str:
    """The URL the job connects with: its own URL if set, else the warehouse URL; its role set either way."""
    env = os.environ if environ is None else environ
    return with_role(env.get(role.url_variable) or url, role)
