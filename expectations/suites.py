"""The suites: contract expectations plus each source's business rules. Named `raw_<source>`."""

from __future__ import annotations

import copy

import great_expectations as gx
import great_expectations.expectations as gxe

from expectations.common import contract_expectations, not_after_business_date, on_business_date, utc_date_column
from warning_models.contract import get_source

OLDEST_DATE = "1900-01-01"

SOURCE_RULES: dict[str, list[gxe.Expectation]] = {
    "borrowers": [
        gxe.ExpectColumnValuesToBeInSet(column="segment", value_set=["retail", "sme"]),
        gxe.ExpectColumnValuesToBeBetween(column="annual_income_amount", min_value=0),
        gxe.ExpectColumnValuesToBeBetween(column="birth_date", min_value=OLDEST_DATE),
        not_after_business_date("birth_date"),
        not_after_business_date("onboarded_date"),
    ],
    "loans": [
        gxe.ExpectColumnValuesToBeInSet(column="product", value_set=["mortgage", "personal", "auto", "sme_term"]),
        gxe.ExpectColumnValuesToBeBetween(column="principal_amount", min_value=0, strict_min=True),
        gxe.ExpectColumnValuesToBeBetween(column="interest_rate_pct", min_value=0, max_value=100),
        gxe.ExpectColumnValuesToBeBetween(column="term_months", min_value=1, max_value=600),
        not_after_business_date("origination_date"),
    ],
    "loan_performance": [
        on_business_date("performance_date"),
        gxe.ExpectColumnValuesToBeBetween(column="balance_amount", min_value=0),
        gxe.ExpectColumnValuesToBeBetween(column="days_past_due", min_value=0, max_value=36500),
    ],
    "repayments": [
        on_business_date("due_date"),
        gxe.ExpectColumnValuesToBeBetween(column="due_amount", min_value=0, strict_min=True),
        gxe.ExpectColumnValuesToBeBetween(column="paid_amount", min_value=0),
    ],
    "market_prices": [
        on_business_date("price_date"),
        gxe.ExpectColumnValuesToBeBetween(column="close_price", min_value=0, strict_min=True),
    ],
    "macro_series": [
        not_after_business_date("period_end_date"),
        gxe.ExpectColumnValuesToMatchRegex(column="series_id", regex=r"^[A-Z]{2}\.[A-Z_]+$"),
        gxe.ExpectColumnValuesToBeBetween(column="value", min_value=0),
    ],
    "access_events": [
        on_business_date(utc_date_column("event_at")),
        gxe.ExpectColumnValuesToBeInSet(column="action", value_set=["login", "login_failed", "select", "export", "update"]),
        gxe.ExpectColumnValuesToBeBetween(column="rows_read", min_value=0),
        gxe.ExpectColumnValuesToMatchRegex(column="client_ip", regex=r"^[0-9a-fA-F:.]+$"),
    ],
}


def suite_name(source: str) -> str:
    return f"raw_{source}"


def build_suite(source: str) -> gx.ExpectationSuite:
    """The suite guarding the batches of one source."""
    contract = get_source(source)
    return gx.ExpectationSuite(
        name=suite_name(source), expectations=[*contract_expectations(contract), *copy.deepcopy(SOURCE_RULES[source])]
    )
