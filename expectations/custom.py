"""Custom GX expectations for checks that need history: each is a SQL query returning the rows that break it.

GX has no expectation that compares a batch with earlier batches, so these subclass `UnexpectedRowsExpectation`
(a batch fails when its query returns rows). Every query returns `batch_id` and `source_line` (null when the
check is about the batch as a whole) first, so a failure is charged to the batch whose rows broke it and names
its file lines. `capped` keeps at most MAX_EXAMPLES rows per batch and counts them all in `failing_rows`.

History means live batches (status passed or loaded) of earlier business dates: quarantined and superseded
batches never count, and the day under test is excluded from its own baseline.
"""

from __future__ import annotations

from typing import Any, ClassVar

import great_expectations.expectations as gxe

MAX_EXAMPLES = 5  # per batch: GX returns at most 200 rows of a query, the gate validates up to 40 batches at once
LIVE = "in ('passed', 'loaded')"


def capped(query: str) -> str:
    """At most MAX_EXAMPLES failing rows per batch, each with the batch's total count of failing rows.

    The join to audit.batches also tells GX the query aliases `{batch}` itself (GX adds no alias to a
    query that joins).
    """
    return f"""select capped.* from (
    select failing.*,
           count(*) over (partition by failing.batch_id) as failing_rows,
           row_number() over (partition by failing.batch_id order by failing.source_line nulls first) as nth
    from ({query}) as failing
    join audit.batches as judged on judged.batch_id = failing.batch_id
) as capped
where capped.nth <= {MAX_EXAMPLES}"""


def batches_under_test(batch_ids: list[str]) -> str:
    """A CTE body: the batches being validated (with business date `d` and data rows `n`), empty ones included.

    GX runs these queries as text, without bound parameters, so each batch id is checked against the only form the
    loader gives one (source:date:checksum) before it is written into the query as a literal."""
    from warning_models.loader import BATCH_ID_PATTERN

    bad = [b for b in batch_ids if not BATCH_ID_PATTERN.match(b)]
    if bad:
        raise ValueError(f"not a batch id: {bad[0]!r} (expected source:YYYY-MM-DD:<12 hex digits>)")
    ids = ", ".join(f"'{b}'" for b in batch_ids) or "null"
    # The batches named, or, for a suite built without names, those whose rows are under test: never both, and never
    # in one `or`, which the planner cannot turn into a join (it scanned the chunk's rows once per row of
    # audit.batches, a cost that grew with the history: a minute per chunk after a year). With names, the second
    # branch is constant-false and planned away; it keeps `{batch}` in every query (GX prints a warning without).
    return f"""select b.batch_id, b.business_date as d, coalesce(b.row_count, 0) as n
    from audit.batches as b where b.batch_id in ({ids})
    union all
    select b.batch_id, b.business_date, coalesce(b.row_count, 0)
    from audit.batches as b
    where {'false' if batch_ids else 'true'} and b.batch_id in (select distinct tested.batch_id from {{batch}} as tested)"""


def not_replaced(batch: str, under_test: str) -> str:
    """A history batch is not the other batch of a day under test (the passed one a correction would replace)."""
    return (
        f"({batch}.batch_id in (select {under_test}.batch_id from {under_test})"
        f" or {batch}.business_date not in (select {under_test}.d from {under_test}))"
    )


def same_day_class(a: str, b: str) -> str:
    """Two dates are both weekdays or both weekend days (volumes differ by day class)."""
    return f"((extract(isodow from {a}) >= 6) = (extract(isodow from {b}) >= 6))"


class _HistoryCheck(gxe.UnexpectedRowsExpectation):
    """Base of the gate's SQL checks (not used directly).

    GX runs an UnexpectedRowsExpectation's query twice: once for its rows and once, wrapped, for their count.
    Every query here is capped (at most MAX_EXAMPLES rows per batch, each counting its batch's failing rows), so
    its rows are all there is: the count is theirs, and the query runs once.
    """

    metric_dependencies: ClassVar[tuple[str, ...]] = ("unexpected_rows_query.table",)

    def _validate(
        self,
        metrics: dict[str, Any],
        runtime_configuration: dict[str, Any] | None = None,
        execution_engine: Any = None,
    ) -> dict[str, Any]:
        rows = metrics["unexpected_rows_query.table"]
        return {
            "success": len(rows) == 0,
            "result": {"observed_value": len(rows), "details": {"unexpected_rows": rows}},
        }


class ExpectBatchDateNotInFuture(_HistoryCheck):
    description: str = "The batch's business date is not after tomorrow (UTC): no batch arrives from the future."


class ExpectBatchOnTradingDay(_HistoryCheck):
    description: str = "Prices arrive only for trading days of the market calendar."


class ExpectControlTotalsToMatch(_HistoryCheck):
    description: str = (
        "When the extract job delivers control totals (<date>.ctl.json), the batch's row count and column sums "
        "equal them: nothing was lost, truncated or added on the way."
    )


class ExpectBatchMetricWithinTrailingBaseline(_HistoryCheck):
    description: str = (
        "A batch-level count (rows, distinct users) stays within a robust band (median, 1.4826 MAD) of the "
        "same metric over earlier live batches of the same day class; the day under test and quarantined days "
        "are excluded from the baseline."
    )


class ExpectCategoryMixStableAgainstTrailingBaseline(_HistoryCheck):
    description: str = (
        "The mix of a key categorical field (population stability index) stays close to its pooled mix over "
        "earlier live batches of the same day class."
    )


class ExpectParentKeysToExist(_HistoryCheck):
    description: str = "Every reference names a row of a live parent batch dated on or before this one (no orphans)."


class ExpectKnownInstruments(_HistoryCheck):
    description: str = (
        "Every instrument priced was priced before or has a live price history (a new identifier is a mapping "
        "error until released)."
    )


class ExpectNoInstrumentMissing(_HistoryCheck):
    description: str = "Every instrument priced on the previous trading day is priced again."


class ExpectPricesNotStale(_HistoryCheck):
    description: str = (
        "No instrument closes at exactly the same price for N trading days in a row (a frozen feed), daily "
        "closes and price history read as one series."
    )


class ExpectPriceReturnsWithinRobustBand(_HistoryCheck):
    description: str = (
        "Each close's log return from the previous live close (daily or history) lies within max(k robust sigmas "
        "of the instrument's recent returns, a floor): a decimal shift (x100, /100, x10) is caught, a crash is not."
    )


class ExpectPositionsPriced(_HistoryCheck):
    description: str = "Every instrument a portfolio holds has a live daily close on the position date (it can be valued)."


class ExpectBalancesToReconcile(_HistoryCheck):
    description: str = (
        "Each loan's balance reconciles with its previous balance: previous - payments since <= balance <= "
        "previous (within a tolerance); a loan's first balance is at most its principal."
    )


class ExpectDaysPastDueToAgeAtMostByElapsedDays(_HistoryCheck):
    description: str = "Days past due grow by at most the calendar days since the loan's previous balance."


class ExpectNoLoanToVanish(_HistoryCheck):
    description: str = "Every loan with a balance yesterday has a row today (no loans dropped from the extract)."


class ExpectMacroValuesWithinJumpBand(_HistoryCheck):
    description: str = "A macro series moves less than a plausible log ratio from one period to the next."
