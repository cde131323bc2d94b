"""The suites: contract expectations plus each source's business rules for one business date."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import great_expectations as gx
import great_expectations.expectations as gxe

from expectations.common import contract_expectations
from warning_models.contract import get_source

SuiteBuilder = Callable[[dt.date], list[gxe.Expectation]]

OLDEST_DATE = dt.date(1900, 1, 1)


def _on_day(column: str, day: dt.date) -> gxe.Expectation:
    return gxe.ExpectColumnValuesToBeBetween(column=column, min_value=day.isoformat(), max_value=day.isoformat())


def _not_after(column: str, day: dt.date) -> gxe.Expectation:
    return gxe.ExpectColumnValuesToBeBetween(column=column, min_value=OLDEST_DATE.isoformat(), max_value=day.isoformat())


def _raw_borrowers(day: dt.date) -> list[gxe.Expectation]:
    return [
        gxe.ExpectColumnValuesToBeInSet(column="segment", value_set=["retail", "sme"]),
        gxe.ExpectColumnValuesToBeBetween(column="annual_income_amount", min_value=0),
        _not_after("birth_date", day),
        _not_after("onboarded_date", day),
    ]


def _raw_loans(day: dt.date) -> list[gxe.Expectation]:
    return [
        gxe.ExpectColumnValuesToBeInSet(column="product", value_set=["mortgage", "personal", "auto", "sme_term"]),
        gxe.ExpectColumnValuesToBeBetween(column="principal_amount", min_value=0, strict_min=True),
        gxe.ExpectColumnValuesToBeBetween(column="interest_rate_pct", min_value=0, max_value=100),
        gxe.ExpectColumnValuesToBeBetween(column="term_months", min_value=1, max_value=600),
        _not_after("origination_date", day),
    ]


def _raw_loan_performance(day: dt.date) -> list[gxe.Expectation]:
    return [
        _on_day("performance_date", day),
        gxe.ExpectColumnValuesToBeBetween(column="balance_amount", min_value=0),
        gxe.ExpectColumnValuesToBeBetween(column="days_past_due", min_value=0, max_value=36500),
    ]


def _raw_repayments(day: dt.date) -> list[gxe.Expectation]:
    return [
        _on_day("due_date", day),
        gxe.ExpectColumnValuesToBeBetween(column="due_amount", min_value=0, strict_min=True),
        gxe.ExpectColumnValuesToBeBetween(column="paid_amount", min_value=0),
    ]


def _raw_market_prices(day: dt.date) -> list[gxe.Expectation]:
    return [
        _on_day("price_date", day),
        gxe.ExpectColumnValuesToBeBetween(column="close_price", min_value=0, strict_min=True),
    ]


def _raw_macro_series(day: dt.date) -> list[gxe.Expectation]:
    return [
        _not_after("period_end_date", day),
        gxe.ExpectColumnValuesToMatchRegex(column="series_id", regex=r"^[A-Z]{2}\.[A-Z_]+$"),
        gxe.ExpectColumnValuesToBeBetween(column="value", min_value=0),
    ]


def _raw_access_events(day: dt.date) -> list[gxe.Expectation]:
    start = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
    end = start + dt.timedelta(days=1) - dt.timedelta(microseconds=1)
    return [
        gxe.ExpectColumnValuesToBeBetween(column="event_at", min_value=start.isoformat(), max_value=end.isoformat()),
        gxe.ExpectColumnValuesToBeInSet(column="action", value_set=["login", "login_failed", "select", "export", "update"]),
        gxe.ExpectColumnValuesToBeBetween(column="rows_read", min_value=0),
        gxe.ExpectColumnValuesToMatchRegex(column="client_ip", regex=r"^[0-9a-fA-F:.]+$"),
    ]


SUITE_BUILDERS: dict[str, SuiteBuilder] = {
    "borrowers": _raw_borrowers,
    "loans": _raw_loans,
    "loan_performance": _raw_loan_performance,
    "repayments": _raw_repayments,
    "market_prices": _raw_market_prices,
    "macro_series": _raw_macro_series,
    "access_events": _raw_access_events,
}


def suite_name(source: str) -> str:
    return f"raw_{source}"


def build_suite(source: str, business_date: dt.date) -> gx.ExpectationSuite:
    """The suite guarding one batch of `source` for `business_date`."""
    contract = get_source(source)
    expectations = [*contract_expectations(contract), *SUITE_BUILDERS[source](business_date)]
    return gx.ExpectationSuite(name=suite_name(source), expectations=expectations)
