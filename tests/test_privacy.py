"""No phone-home: every entry point switches usage tracking off (dbt, GX, Cosmos, Airflow)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from warning_models.config import REPO_ROOT
from warning_models.privacy import TELEMETRY_OFF


def test_importing_the_package_switches_tracking_off_for_child_processes() -> None:
    env = {k: v for k, v in os.environ.items() if k not in TELEMETRY_OFF}
    code = "import os, warning_models; print({k: os.environ.get(k) for k in %r})" % sorted(TELEMETRY_OFF)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert eval(out) == TELEMETRY_OFF  # noqa: S307 - our own printed dict


@pytest.mark.parametrize("path", ["dags/ews_load.py", "dags/ews_model.py", ".ci/test", "docker/Dockerfile", "docker/docker-compose.yaml"])
def test_every_entry_point_sets_the_switches(path: str) -> None:
    text = (REPO_ROOT / path).read_text()
    if path.endswith(".py"):
        assert "TELEMETRY_OFF" in text
        return
    core = ["DO_NOT_TRACK", "DBT_SEND_ANONYMOUS_USAGE_STATS", "GX_ANALYTICS_ENABLED", "AIRFLOW__COSMOS__ENABLE_TELEMETRY"]
    assert [k for k in core if k not in text] == []


def test_dbt_project_disables_anonymous_usage_stats() -> None:
    text = (REPO_ROOT / "dbt_project" / "dbt_project.yml").read_text()
    assert "send_anonymous_usage_stats: false" in text


def test_the_gate_context_has_analytics_off(warehouse: str) -> None:
    from warning_models.gx_context import gx_context

    context, _ = gx_context(warehouse)
    assert context.config.analytics_enabled is False
