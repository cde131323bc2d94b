"""dbt, run in-process (dbtRunner) against the warehouse chosen by the settings."""

from __future__ import annotations

import logging
import os

from warning_models.config import Settings, load_settings, parse_url
from warning_models.errors import TransformError
from warning_models.privacy import disable_telemetry

log = logging.getLogger(__name__)


def dbt_environment(url: str) -> dict[str, str]:
    """The environment dbt_project/profiles.yml reads, derived from the warehouse URL."""
    return parse_url(url).dbt_env()


def run_dbt(command: list[str], url: str, settings: Settings | None = None) -> None:
    """Run one dbt command (e.g. ["build"], ["parse"]); raise TransformError naming the failed nodes."""
    from dbt.cli.main import dbtRunner

    settings = settings or load_settings()
    disable_telemetry()
    os.environ.update(dbt_environment(url))
    args = [
        *command,
        "--project-dir",
        str(settings.dbt_project_dir),
        "--profiles-dir",
        str(settings.dbt_project_dir),
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
