"""Run the registered indicators for one as-of date and publish each result.

An indicator with too little history is skipped (its outcome says why); any other error propagates. Each
published indicator is committed on its own, so a later failure does not undo the ones before it.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, NamedTuple

from warning_models.errors import InsufficientHistoryError
from warning_models.indicators import (
    access_baseline,
    credit_pd,
    credit_portfolio,
    macro_credit_gap,
    macro_ews,
    market_regime,
    market_var,
)
from warning_models.indicators.base import Compute, Domain
from warning_models.publish import publish
from warning_models.roles import JobRole, job_url
from warning_models.warehouse import connect

log = logging.getLogger(__name__)


class IndicatorSpec(NamedTuple):
    domain: Domain
    compute: Compute


INDICATORS: dict[str, IndicatorSpec] = {
    credit_pd.INDICATOR: IndicatorSpec(credit_pd.DOMAIN, credit_pd.compute),
    credit_portfolio.INDICATOR: IndicatorSpec(credit_portfolio.DOMAIN, credit_portfolio.compute),
    market_regime.INDICATOR: IndicatorSpec(market_regime.DOMAIN, market_regime.compute),
    market_var.INDICATOR: IndicatorSpec(market_var.DOMAIN, market_var.compute),
    macro_credit_gap.INDICATOR: IndicatorSpec(macro_credit_gap.DOMAIN, macro_credit_gap.compute),
    macro_ews.INDICATOR: IndicatorSpec(macro_ews.DOMAIN, macro_ews.compute),
    access_baseline.INDICATOR: IndicatorSpec(access_baseline.DOMAIN, access_baseline.compute),
}


class OutcomeStatus(StrEnum):
    PUBLISHED = "published"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class IndicatorOutcome:
    """What happened to one indicator for one as-of date (small and flat: the DAG returns it as XCom)."""

    indicator: str
    domain: Domain
    as_of_date: dt.date
    status: OutcomeStatus
    seconds: float
    values: int = 0  # indicator values published
    alerts: int = 0  # alerts published
    model_run_id: str | None = None
    reason: str | None = None  # why it was skipped

    def as_dict(self) -> dict[str, str | int | float | None]:
        """JSON-ready form, for audit.pipeline_runs and Airflow XCom."""
        return {
            "indicator": self.indicator,
            "domain": str(self.domain),
            "as_of_date": self.as_of_date.isoformat(),
            "status": str(self.status.value),
            "seconds": round(self.seconds, 3),
            "values": self.values,
            "alerts": self.alerts,
            "model_run_id": self.model_run_id,
            "reason": self.reason,
        }


def select_indicators(domains: Iterable[str | Domain] | None = None) -> dict[str, IndicatorSpec]:
    """The registered indicators of ``domains`` (all when None); an unknown domain raises ValueError."""
    if domains is None:
        return dict(INDICATORS)
    wanted: set[Domain] = set()
    for name in domains:
        try:
            wanted.add(Domain(name))
        except ValueError:
            known = ", ".join(d.value for d in Domain)
            raise ValueError(f"unknown indicator domain {name!r}; known: {known}") from None
    return {name: spec for name, spec in INDICATORS.items() if spec.domain in wanted}


def run_indicators(
    url: str, as_of: dt.date, domains: Iterable[str | Domain] | None = None, configs: Mapping[str, Any] | None = None
) -> list[IndicatorOutcome]:
    """Compute and publish every selected indicator for ``as_of`` as the modeler role; too little history is a
    skip, not an error. ``configs`` overrides an indicator's settings (default: from the environment)."""
    selected = select_indicators(domains)
    configs = configs or {}
    outcomes: list[IndicatorOutcome] = []
    with connect(job_url(url, JobRole.MODELER)) as conn:
        for name, spec in selected.items():
            started = time.perf_counter()
            try:
                result = spec.compute(conn, as_of, configs.get(name))
            except InsufficientHistoryError as exc:
                conn.rollback()
                log.info("%s skipped for %s: %s", name, as_of, exc)
                outcomes.append(
                    IndicatorOutcome(
                        name, spec.domain, as_of, OutcomeStatus.SKIPPED, time.perf_counter() - started, reason=str(exc)
                    )
                )
                continue
            counts = publish(conn, result)
            conn.commit()
            elapsed = time.perf_counter() - started
            log.info(
                "%s for %s: %d values, %d alerts in %.2fs",
                name, as_of, counts.indicator_values, counts.alerts, elapsed,
            )
            outcomes.append(
                IndicatorOutcome(
                    name,
                    spec.domain,
                    as_of,
                    OutcomeStatus.PUBLISHED,
                    elapsed,
                    values=counts.indicator_values,
                    alerts=counts.alerts,
                    model_run_id=result.run.model_run_id,
                )
            )
    return outcomes
