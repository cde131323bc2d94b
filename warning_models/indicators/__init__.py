"""The early-warning indicators: one statsmodels model per risk domain, computed point-in-time.

- ``credit_pd``: Logit probability of default within 60 days, per live loan (``credit_pd_logit``).
- ``market_regime``: filtered probability of the high-variance Markov regime of the index (``market_stress_regime``).
- ``macro_credit_gap``: one-sided Basel credit-to-GDP gap, per economy (``macro_credit_gap``).
- ``access_baseline``: Poisson-GLM user-day risk score (``access_activity_baseline``).
- ``runner``: the registry ``INDICATORS`` and ``run_indicators(url, as_of, domains)``, which publishes results
  through ``warning_models.publish``. Re-exported here lazily (``publish`` imports the result types from this
  package, and ``runner`` imports ``publish``: loading ``runner`` on first use keeps that from being a cycle).
"""

from typing import Any

from warning_models.indicators.base import (
    Alert,
    Domain,
    EntityType,
    IndicatorResult,
    IndicatorValue,
    ModelRun,
    Severity,
)

_RUNNER_NAMES = ("INDICATORS", "IndicatorOutcome", "OutcomeStatus", "run_indicators", "select_indicators")

__all__ = [
    "Alert",
    "Domain",
    "EntityType",
    "IndicatorResult",
    "IndicatorValue",
    "ModelRun",
    "Severity",
    *_RUNNER_NAMES,
]


def __getattr__(name: str) -> Any:
    if name in _RUNNER_NAMES:
        from warning_models.indicators import runner

        return getattr(runner, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
