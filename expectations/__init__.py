"""Great Expectations suites, one per landing source, defined in code and named after what they guard.

The gate registers them with `add_or_update`, so registering again is idempotent.
"""

from expectations.common import derived_columns, utc_date_column
from expectations.suites import SOURCE_RULES, build_suite, suite_name

__all__ = ["SOURCE_RULES", "build_suite", "derived_columns", "suite_name", "utc_date_column"]
