"""The landing contract: which CSV files a bank's extract jobs write, and every column with its type.

A batch is one source's file for one business date, at ``<landing>/<source>/<YYYY-MM-DD>.csv``:
UTF-8, comma-separated, a header row naming the columns (any order), RFC 4180 quoting, empty field = NULL.
docs/landing_contract.md documents the same contract for people; a test keeps the two in step.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from warning_models.errors import UnknownSourceError


class ColumnType(str, Enum):
    TEXT = "text"
    INTEGER = "integer"
    NUMERIC = "numeric"
    DATE = "date"
    TIMESTAMP = "timestamptz"

    @property
    def sql(self) -> str:
        return {"text": "text", "integer": "bigint", "numeric": "numeric", "date": "date", "timestamptz": "timestamptz"}[
            self.value
        ]


class Cadence(str, Enum):
    """When a source delivers a file."""

    DAILY = "daily"  # every calendar day, possibly with no data rows (header only)
    TRADING_DAYS = "trading_days"  # every trading day of the market calendar, never on other days
    ON_PUBLICATION = "on_publication"  # only when new figures are published; absence is normal


@dataclass(frozen=True)
class Column:
    name: str
    type: ColumnType
    description: str
    nullable: bool = False


@dataclass(frozen=True)
class Source:
    name: str
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    date_column: str  # the column whose value ties a row to the batch's business date
    cadence: Cadence
    may_be_empty: bool  # a header-only file is a valid batch

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def raw_table(self) -> str:
        return f"raw.{self.name}"

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


T = ColumnType
SOURCES: dict[str, Source] = {
    s.name: s
    for s in (
        Source(
            "borrowers",
            "Borrowers onboarded on the business date (the first batch carries the whole book).",
            (
                Column("borrower_id", T.TEXT, "Bank-wide borrower identifier."),
                Column("institution_id", T.TEXT, "Institution that owns the relationship."),
                Column("full_name", T.TEXT, "Borrower's name (PII: never leaves raw in clear)."),
                Column("national_id", T.TEXT, "National identity number (PII)."),
                Column("birth_date", T.DATE, "Date of birth (PII)."),
                Column("region", T.TEXT, "Region of residence or registration."),
                Column("segment", T.TEXT, "retail or sme."),
                Column("annual_income_amount", T.NUMERIC, "Declared annual income or turnover, in the book currency."),
                Column("onboarded_date", T.DATE, "Date the borrower became a customer; <= business date."),
            ),
            key=("borrower_id",),
            date_column="onboarded_date",
            cadence=Cadence.DAILY,
            may_be_empty=True,
        ),
        Source(
            "loans",
            "Loans originated on the business date (the first batch carries every live loan).",
            (
                Column("loan_id", T.TEXT, "Loan identifier."),
                Column("borrower_id", T.TEXT, "Borrower owing the loan."),
                Column("product", T.TEXT, "mortgage, personal, auto or sme_term."),
                Column("origination_date", T.DATE, "Date the loan was drawn; <= business date."),
                Column("principal_amount", T.NUMERIC, "Amount lent, > 0."),
                Column("interest_rate_pct", T.NUMERIC, "Annual nominal interest rate in percent."),
                Column("term_months", T.INTEGER, "Contractual term in months."),
            ),
            key=("loan_id",),
            date_column="origination_date",
            cadence=Cadence.DAILY,
            may_be_empty=True,
        ),
        Source(
            "loan_performance",
            "End-of-day state of every live loan on the business date.",
            (
                Column("loan_id", T.TEXT, "Loan identifier."),
                Column("performance_date", T.DATE, "The business date."),
                Column("balance_amount", T.NUMERIC, "Outstanding principal at end of day, >= 0."),
                Column("days_past_due", T.INTEGER, "Days the oldest unpaid instalment is overdue, >= 0."),
            ),
            key=("loan_id", "performance_date"),
            date_column="performance_date",
            cadence=Cadence.DAILY,
            may_be_empty=False,
        ),
        Source(
            "repayments",
            "Instalments that fell due on the business date and what was paid against them.",
            (
                Column("repayment_id", T.TEXT, "Instalment identifier."),
                Column("loan_id", T.TEXT, "Loan identifier."),
                Column("due_date", T.DATE, "The business date the instalment fell due."),
                Column("due_amount", T.NUMERIC, "Amount due, > 0."),
                Column("paid_amount", T.NUMERIC, "Amount received on the due date, >= 0 (0 = missed)."),
            ),
            key=("repayment_id",),
            date_column="due_date",
            cadence=Cadence.DAILY,
            may_be_empty=True,
        ),
        Source(
            "market_prices",
            "Closing prices of the bank's instruments on a trading day.",
            (
                Column("instrument_id", T.TEXT, "Instrument identifier (ticker, ISIN or internal id)."),
                Column("price_date", T.DATE, "The trading day."),
                Column("close_price", T.NUMERIC, "Closing price, > 0."),
            ),
            key=("instrument_id", "price_date"),
            date_column="price_date",
            cadence=Cadence.TRADING_DAYS,
            may_be_empty=False,
        ),
        Source(
            "market_price_history",
            "Closing-price history of instruments, delivered when the bank onboards them (no file is normal).",
            (
                Column("instrument_id", T.TEXT, "Instrument identifier (ticker, ISIN or internal id)."),
                Column("price_date", T.DATE, "A past trading day; < business date."),
                Column("close_price", T.NUMERIC, "Closing price, > 0."),
            ),
            key=("instrument_id", "price_date"),
            date_column="price_date",
            cadence=Cadence.ON_PUBLICATION,
            may_be_empty=False,
        ),
        Source(
            "portfolio_positions",
            "End-of-day holdings of the bank's trading portfolios on a trading day.",
            (
                Column("portfolio_id", T.TEXT, "Portfolio (trading book or desk) identifier."),
                Column("instrument_id", T.TEXT, "Instrument held, as in market_prices."),
                Column("position_date", T.DATE, "The trading day."),
                Column("quantity", T.NUMERIC, "Units held at the close; negative for a short position."),
            ),
            key=("portfolio_id", "instrument_id", "position_date"),
            date_column="position_date",
            cadence=Cadence.TRADING_DAYS,
            may_be_empty=True,
        ),
        Source(
            "macro_series",
            "Quarterly macro-financial series published on the business date (the first batch carries history).",
            (
                Column("series_id", T.TEXT, "<economy>.<measure>, e.g. XA.CREDIT_PRIVATE or XA.GDP_NOMINAL."),
                Column("period_end_date", T.DATE, "Last day of the quarter the value refers to; <= business date."),
                Column("value", T.NUMERIC, "Value in billions of the local currency (credit: stock; GDP: quarterly flow)."),
            ),
            key=("series_id", "period_end_date"),
            date_column="period_end_date",
            cadence=Cadence.ON_PUBLICATION,
            may_be_empty=False,
        ),
        Source(
            "macro_crises",
            "Systemic banking crises per economy, as dated by the authority (the first batch carries history).",
            (
                Column("economy_code", T.TEXT, "Two-letter economy code, as in macro_series."),
                Column("crisis_start_date", T.DATE, "First day of the crisis' first quarter; <= business date."),
                Column("crisis_end_date", T.DATE, "Last day of its last quarter; empty while it lasts.", nullable=True),
            ),
            key=("economy_code", "crisis_start_date"),
            date_column="crisis_start_date",
            cadence=Cadence.ON_PUBLICATION,
            may_be_empty=False,
        ),
        Source(
            "access_events",
            "Data-access events of the bank's users against its data stores on the business date (UTC).",
            (
                Column("event_id", T.TEXT, "Event identifier."),
                Column("event_at", T.TIMESTAMP, "When the event happened, ISO 8601 with offset (UTC)."),
                Column("user_id", T.TEXT, "Account that acted."),
                Column("client_ip", T.TEXT, "Client IP address (IPv4 or IPv6), or local for a Unix-socket connection."),
                Column("action", T.TEXT, "login, login_failed, select, export or update."),
                Column("object_name", T.TEXT, "schema.table touched; empty for logins.", nullable=True),
                Column("rows_read", T.INTEGER, "Rows returned to the client, >= 0."),
            ),
            key=("event_id",),
            date_column="event_at",
            cadence=Cadence.DAILY,
            may_be_empty=True,
        ),
    )
}

# Sources whose same-day batch a source's checks read (its parents, and payments for balance reconciliation):
# they are loaded and gated first, and a replay of one of them re-judges what it held back downstream.
UPSTREAM: dict[str, tuple[str, ...]] = {
    "loans": ("borrowers",),
    "repayments": ("loans",),
    "loan_performance": ("loans", "repayments"),
    "market_prices": ("market_price_history",),
    "portfolio_positions": ("market_prices",),
}

# Sources in load order: upstream before downstream.
SOURCE_ORDER: tuple[str, ...] = (
    "borrowers",
    "loans",
    "repayments",
    "loan_performance",
    "market_price_history",
    "market_prices",
    "portfolio_positions",
    "macro_series",
    "macro_crises",
    "access_events",
)


def downstream_of(source: str) -> list[str]:
    """Every source that depends on `source`, directly or through others, in load order."""
    found: set[str] = set()
    frontier = {source}
    while frontier:
        frontier = {s for s, ups in UPSTREAM.items() if set(ups) & frontier} - found
        found |= frontier
    return [s for s in SOURCE_ORDER if s in found]

_HOLIDAYS_MD = {(1, 1), (12, 25), (12, 26)}


def is_trading_day(day: dt.date) -> bool:
    """The synthetic market's calendar: weekdays except 1 January, 25 and 26 December."""
    return day.weekday() < 5 and (day.month, day.day) not in _HOLIDAYS_MD


def get_source(name: str) -> Source:
    try:
        return SOURCES[name]
    except KeyError:
        raise UnknownSourceError(f"unknown source {name!r}; the contract has {', '.join(SOURCES)}") from None


def landing_path(landing_dir: Path, source: str, business_date: dt.date) -> Path:
    return landing_dir / source / f"{business_date.isoformat()}.csv"


def control_path(landing_file: Path) -> Path:
    """Where an extract job may put the control totals of a landing file: ``<YYYY-MM-DD>.ctl.json`` next to it."""
    return landing_file.with_suffix(".ctl.json")


def expected_sources(business_date: dt.date) -> list[str]:
    """Sources whose file must be present for a business date (ON_PUBLICATION sources are optional)."""
    return [
        s.name
        for s in SOURCES.values()
        if s.cadence is Cadence.DAILY or (s.cadence is Cadence.TRADING_DAYS and is_trading_day(business_date))
    ]
