"""The suites: contract expectations, each source's business rules and its authenticity checks. Named `raw_<source>`.

A suite is built for the batches it validates (batch-level checks name them), with every expectation's
severity taken from the gate configuration: `block` is GX's critical, `warn` its warning.
"""

from __future__ import annotations

import copy

import great_expectations as gx
import great_expectations.expectations as gxe
from great_expectations.expectations.metadata_types import FailureSeverity

from expectations import batch_checks as batch
from expectations import history_checks as history
from expectations.common import (
    before_business_date,
    check_name,
    contract_expectations,
    named,
    not_after_business_date,
    not_before,
    on_business_date,
    utc_date_column,
)
from expectations.config import GateConfig, Severity, Thresholds, load_gate_config
from warning_models.contract import Cadence, get_source

OLDEST_DATE = "1900-01-01"


def _in_set(column: str, values: list[str]) -> gxe.Expectation:
    return named("allowed_values", gxe.ExpectColumnValuesToBeInSet(column=column, value_set=values))


def _between(column: str, **bounds: object) -> gxe.Expectation:
    return named("value_range", gxe.ExpectColumnValuesToBeBetween(column=column, **bounds))


def _regex(column: str, regex: str) -> gxe.Expectation:
    return named("value_format", gxe.ExpectColumnValuesToMatchRegex(column=column, regex=regex))


SOURCE_RULES: dict[str, list[gxe.Expectation]] = {
    "borrowers": [
        _in_set("segment", ["retail", "sme"]),
        _between("annual_income_amount", min_value=0),
        _between("birth_date", min_value=OLDEST_DATE),
        not_after_business_date("birth_date"),
        not_after_business_date("onboarded_date"),
    ],
    "loans": [
        _in_set("product", ["mortgage", "personal", "auto", "sme_term"]),
        _between("principal_amount", min_value=0, strict_min=True),
        _between("interest_rate_pct", min_value=0, max_value=100),
        _between("term_months", min_value=1, max_value=600),
        not_after_business_date("origination_date"),
    ],
    "loan_performance": [
        on_business_date("performance_date"),
        _between("balance_amount", min_value=0),
        _between("days_past_due", min_value=0, max_value=36500),
    ],
    "repayments": [
        on_business_date("due_date"),
        _between("due_amount", min_value=0, strict_min=True),
        _between("paid_amount", min_value=0),
    ],
    "market_prices": [
        on_business_date("price_date"),
        _between("close_price", min_value=0, strict_min=True),
    ],
    "market_price_history": [
        before_business_date("price_date"),  # the business date's own close comes in market_prices
        _between("close_price", min_value=0, strict_min=True),
    ],
    "portfolio_positions": [
        on_business_date("position_date"),  # quantity may be negative (a short position)
    ],
    "macro_series": [
        not_after_business_date("period_end_date"),
        _regex("series_id", r"^[A-Z]{2}\.[A-Z_]+$"),
        _between("value", min_value=0),
    ],
    "macro_crises": [
        _regex("economy_code", r"^[A-Z]{2}$"),
        not_after_business_date("crisis_start_date"),
        not_after_business_date("crisis_end_date"),  # empty while the crisis lasts
        not_before("crisis_end_date", "crisis_start_date"),
    ],
    "access_events": [
        on_business_date(utc_date_column("event_at")),
        _in_set("action", ["login", "login_failed", "select", "export", "update"]),
        _between("rows_read", min_value=0),
        _regex("client_ip", r"^([0-9a-fA-F:.]+|local)$"),  # 'local': a Unix-socket connection (access.pg_log)
    ],
}


def authenticity_checks(source: str, batch_ids: list[str], t: Thresholds) -> list[gxe.Expectation]:
    """The checks that need history or the batch as a whole, for the batches under test."""
    contract = get_source(source)
    found: list[gxe.Expectation] = [
        named("batch_date_not_in_future", batch.future_batch(batch_ids)),
        named("control_totals", batch.control_totals(source, batch_ids)),
    ]
    if source in history.REFERENCES:
        found.append(named("orphan_keys", history.orphan_keys(source)))
    if contract.cadence is not Cadence.ON_PUBLICATION:
        found.append(named("row_count_collapse", batch.metric_collapse(source, batch_ids, batch.ROW_COUNT, t)))
        found.append(named("row_count_drift", batch.metric_drift(source, batch_ids, batch.ROW_COUNT, t)))
    if source in batch.CATEGORY_FIELDS:
        found.append(named("category_drift", batch.category_drift(source, batch_ids, t)))
    if contract.cadence is Cadence.TRADING_DAYS:
        found.append(named("trading_day", batch.trading_day(batch_ids)))
    if source == "market_prices":
        found += [
            named("unknown_instrument", history.unknown_instrument()),
            named("instrument_missing", history.instrument_missing(batch_ids)),
        ]
    if source in history.PRICE_SOURCES:  # daily closes and price history are judged as one series
        found += [
            named("stale_price", history.stale_price(source, t)),
            named("price_jump", history.price_jump(source, t)),
        ]
    if source == "portfolio_positions":
        found.append(named("position_unpriced", history.position_unpriced()))
    if source == "loan_performance":
        found += [
            named("balance_reconciliation", history.balance_reconciliation(batch_ids, t)),
            named("days_past_due_jump", history.days_past_due_jump(batch_ids)),
            named("loan_vanished", history.loan_vanished(batch_ids, t)),
        ]
    if source == "access_events":
        found.append(named("distinct_users_collapse", batch.metric_collapse(source, batch_ids, batch.DISTINCT_USERS, t)))
        found.append(named("distinct_users_drift", batch.metric_drift(source, batch_ids, batch.DISTINCT_USERS, t)))
    if source == "macro_series":
        found.append(named("macro_value_jump", history.macro_value_jump(batch_ids, t)))
    return found


def suite_name(source: str) -> str:
    return f"raw_{source}"


def build_suite(source: str, batch_ids: list[str] | None = None, config: GateConfig | None = None) -> gx.ExpectationSuite:
    """The suite guarding some batches of one source, severities from the gate configuration."""
    config = config or load_gate_config()
    expectations = [
        *contract_expectations(get_source(source)),
        *copy.deepcopy(SOURCE_RULES[source]),
        *authenticity_checks(source, batch_ids or [], config.thresholds),
    ]
    kept = []
    for e in expectations:
        severity = config.severity(source, check_name(e))
        if severity is not Severity.OFF:
            e.severity = FailureSeverity.CRITICAL if severity is Severity.BLOCK else FailureSeverity.WARNING
            kept.append(e)
    return gx.ExpectationSuite(name=suite_name(source), expectations=kept)
