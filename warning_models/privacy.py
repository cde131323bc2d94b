"""No phone-home: the environment switches that silence dbt, GX, Cosmos and Airflow usage reporting."""

from __future__ import annotations

import os

TELEMETRY_OFF: dict[str, str] = {
    "DO_NOT_TRACK": "1",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
    "GX_ANALYTICS_ENABLED": "False",
    "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
    "SCARF_ANALYTICS": "false",
    "AIRFLOW__USAGE_DATA_COLLECTION__ENABLED": "False",
}


def disable_telemetry() -> None:
    """Force every known usage tracker off in this process's environment (inherited by children)."""
    os.environ.update(TELEMETRY_OFF)
