"""Great Expectations suites, one per landing source, defined in code and named after what they guard.

`build_suite` composes the landing contract's expectations, each source's business rules and the authenticity
checks that need history (custom GX expectations in `custom.py`); `gate.toml` says which block and which warn.
The gate registers suites with `add_or_update`, so registering again is idempotent.
"""

from expectations.common import derived_columns, utc_date_column
from expectations.config import GateConfig, Severity, Thresholds, load_gate_config
from expectations.suites import SOURCE_RULES, authenticity_checks, build_suite, suite_name

__all__ = [
    "SOURCE_RULES",
    "GateConfig",
    "Severity",
    "Thresholds",
    "authenticity_checks",
    "build_suite",
    "derived_columns",
    "load_gate_config",
    "suite_name",
    "utc_date_column",
]
