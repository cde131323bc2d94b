"""IFRS 9 staging of a loan on one day, and the bucket order used by roll alerts.

Stage 3: credit-impaired, at ``default_dpd`` (90) days past due or more, i.e. in default.
Stage 2: a significant increase in credit risk since origination: more than ``backstop_dpd`` (30) days past due
(the standard's rebuttable presumption), or a PD that is at least ``sicr_pd_ratio`` times the PD at origination
and at least ``sicr_min_pd_increase`` above it (relative and absolute together, so a tiny PD doubling is not
significant).
Stage 1: everything else (performing).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BUCKETS = ("current", "1-29", "30-59", "60-89", "90+")


def bucket_of(days_past_due: np.ndarray) -> np.ndarray:
    """Delinquency bucket of each days-past-due value (the same edges as dbt's ``delinquency_bucket``)."""
    dpd = np.asarray(days_past_due, dtype=np.float64)
    index = np.searchsorted(np.array([0.5, 29.5, 59.5, 89.5]), dpd)
    return np.asarray(BUCKETS, dtype=object)[index]


def bucket_rank(bucket: str | None) -> int:
    return BUCKETS.index(bucket) if bucket in BUCKETS else -1


@dataclass(frozen=True)
class StagingRules:
    backstop_dpd: int = 30  # stage 2 above this many days past due
    default_dpd: int = 90  # stage 3 from this many days past due
    sicr_pd_ratio: float = 2.0  # stage 2 when PD >= ratio x origination PD ...
    sicr_min_pd_increase: float = 0.05  # ... and PD - origination PD >= this


def stage_loans(
    days_past_due: np.ndarray, pd_: np.ndarray, origination_pd: np.ndarray, rules: StagingRules
) -> tuple[np.ndarray, list[str]]:
    """Stage (1, 2, 3) and the reason of each loan; ``pd_`` / ``origination_pd`` may be NaN (not scored)."""
    dpd = np.asarray(days_past_due, dtype=np.float64)
    p = np.asarray(pd_, dtype=np.float64)
    p0 = np.asarray(origination_pd, dtype=np.float64)
    stages = np.ones(len(dpd), dtype=np.int64)
    reasons: list[str] = []
    for i in range(len(dpd)):
        if dpd[i] >= rules.default_dpd:
            stages[i] = 3
            reasons.append(f"in default: {dpd[i]:.0f} days past due (>= {rules.default_dpd})")
        elif dpd[i] > rules.backstop_dpd:
            stages[i] = 2
            reasons.append(f"{dpd[i]:.0f} days past due (> {rules.backstop_dpd})")
        elif (
            np.isfinite(p[i]) and np.isfinite(p0[i])
            and p[i] >= rules.sicr_pd_ratio * p0[i] and p[i] - p0[i] >= rules.sicr_min_pd_increase
        ):
            stages[i] = 2
            reasons.append(
                f"significant increase in credit risk: PD {p[i]:.3f} vs {p0[i]:.3f} at origination "
                f"(x{p[i] / max(p0[i], 1e-12):.1f})"
            )
        else:
            reasons.append("performing")
    return stages, reasons
