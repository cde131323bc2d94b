"""ews: an early-warning system for financial risk.

Importing the package switches off the usage trackers of dbt, Great Expectations and Cosmos for this process
and every process it starts: a bank's pipeline never calls out.
"""

from warning_models.privacy import disable_telemetry

disable_telemetry()

__all__ = ["disable_telemetry"]
