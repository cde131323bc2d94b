"""dbt, run in-process (dbtRunner) against the warehouse chosen by the settings."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from warning_models.config import Settings, load_settings, parse_url
from warning_models.errors import TransformError
from warning_models.privacy import disable_telemetry
from warning_models.pseudonyms import ensure_local_keys, pgoptions_with_keys
from warning_models.roles import JobRole, job_url

log = logging.getLogger(__name__)


def dbt_environment(url: str) -> dict[str, str]:
    """The environment dbt_project/profiles.yml reads: the warehouse URL as the transformer role sees it."""
    return parse_url(job_url(url, JobRole.TRANSFORMER)).dbt_env()


def run_dbt(command: list[str], url: str, settings: Settings | None = None) -> None:
    """Run one dbt command (e.g. ["build"], ["parse"]) as the transformer role; raise TransformError naming the
    failed nodes."""
    settings = settings or load_settings()
    disable_telemetry()
    os.environ.update(dbt_environment(url))
    with _pseudonym_keys(command, settings):
        _invoke(command, settings)


# The daily build: models and their data tests, which check what the run changed (dbt_project/macros/
# incremental_batches.sql). Left out: dbt's unit tests of the SQL logic, which belong to CI
# (tests/test_dbt_unit_tests.py). The tests that re-read the whole history are off unless var ews_history_tests
# is set (`ews dbt build --full-refresh` sets it).
DAILY_BUILD = ("build", "--exclude-resource-type", "unit_test")
HISTORY_TESTS = ("--vars", "{ews_history_tests: true}")

# dbt_project/profiles.yml's profile and target, named on every invocation: dbt's partial parse is kept only while
# the profile and target it was written with are named the same way, and Cosmos always names them (--profile
# --target), so a manifest the CLI parsed is one the DAGs' dbt task parses partially from (dags/ews_model.py)
DBT_PROFILE = "ews"
DBT_TARGET = "warehouse"

# dbt commands that build models, and so compute the keyed pseudonyms (warning_models.pseudonyms)
BUILDING_COMMANDS = frozenset({"build", "run", "test", "seed", "snapshot"})


@contextmanager
def _pseudonym_keys(command: list[str], settings: Settings) -> Iterator[None]:
    """The pseudonym keys as session settings of dbt's connections (PGOPTIONS), for this invocation only."""
    if not command or command[0] not in BUILDING_COMMANDS:
        yield
        return
    ensure_local_keys(settings)
    saved = os.environ.get("PGOPTIONS")
    os.environ["PGOPTIONS"] = pgoptions_with_keys()
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("PGOPTIONS", None)
        else:
            os.environ["PGOPTIONS"] = saved


def _invoke(command: list[str], settings: Settings) -> None:
    from dbt.cli.main import dbtRunner

    args = [
        *command,
        "--project-dir",
        str(settings.dbt_project_dir),
        "--profiles-dir",
        str(settings.dbt_project_dir),
        *(() if "--profile" in command else ("--profile", DBT_PROFILE)),
        *(() if "--target" in command else ("--target", DBT_TARGET)),
        "--target-path",
        str(settings.dbt_target_dir),
        "--log-path",
        str(settings.home / "logs"),
        "--quiet",
    ]
    result = dbtRunner().invoke(args)
    if result.success:
        return
    failures: list[str] = []
    if result.result is not None and hasattr(result.result, "results"):
        failures = [
            f"{r.node.unique_id}: {r.status}: {(r.message or '').strip()[:300]}"
            for r in result.result.results
            if str(r.status) in ("error", "fail", "runtime error")
        ]
    if result.exception is not None:
        failures.append(str(result.exception))
    raise TransformError(" ".join(command), failures)


def dbt_docs_dir(settings: Settings) -> Path:
    return settings.home / "dbt_docs"


def build_dbt_docs(url: str, settings: Settings | None = None) -> Path:
    """The dbt docs site as one self-contained page (dbt docs generate --static), in $EWS_HOME/dbt_docs: its own
    target folder, so the manifest Cosmos renders from is left alone."""
    settings = settings or load_settings()
    target = dbt_docs_dir(settings)
    run_dbt(["docs", "generate", "--static"], url, settings.with_overrides(dbt_target_dir=target))
    return target / "static_index.html"
