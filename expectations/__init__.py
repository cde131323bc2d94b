"""Great Expectations suites, one per landing source, defined in code and named after what they guard.

Each suite is built for one batch's business date (date checks tie rows to that date). The gate registers
them with `add_or_update`, so building and registering again is idempotent.
"""

from expectations.suites import SUITE_BUILDERS, build_suite, suite_name

__all__ = ["SUITE_BUILDERS", "build_suite", "suite_name"]
