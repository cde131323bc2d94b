"""Expectations every source gets from the landing contract: column set, not-null, key uniqueness per batch.

Suites validate a query over one or more batches of a source. Each row carries its `batch_id`, its file line
(`source_line`) and its batch's `batch_business_date`, so every expectation is a row-level rule whose failing
rows name their batch and line, and one validation can gate many batches (a backfill) at once.
"""

from __future__ import annotations

from typing import TypeVar

import great_expectations.expectations as gxe

from warning_models.contract import ColumnType, Source

E = TypeVar("E", bound=gxe.Expectation)

BOOKKEEPING_COLUMNS = ("batch_id", "source_line")
BUSINESS_DATE_COLUMN = "batch_business_date"


def utc_date_column(column: str) -> str:
    """The derived column holding a timestamp column's UTC date."""
    return f"{column}_utc_date"


def derived_columns(source: Source) -> list[str]:
    """Columns the gate's query adds to the raw ones: the batch's business date, UTC dates of timestamps."""
    return [BUSINESS_DATE_COLUMN, *(utc_date_column(c.name) for c in source.columns if c.type is ColumnType.TIMESTAMP)]


def named(check: str, expectation: E) -> E:
    """Tag an expectation with the name of the check it implements (what gate.toml sets the severity of)."""
    expectation.meta = {**(expectation.meta or {}), "check": check}
    return expectation


def check_name(expectation: gxe.Expectation) -> str:
    return str((expectation.meta or {}).get("check") or expectation.expectation_type)


def contract_expectations(source: Source) -> list[gxe.Expectation]:
    """Columns exactly as the contract says, non-nullable columns filled, keys unique within each batch."""
    found: list[gxe.Expectation] = [
        named(
            "columns_match_contract",
            gxe.ExpectTableColumnsToMatchSet(
                column_set=[*BOOKKEEPING_COLUMNS, *source.column_names, *derived_columns(source)], exact_match=True
            ),
        ),
    ]
    found += [named("not_null", gxe.ExpectColumnValuesToNotBeNull(column=c.name)) for c in source.columns if not c.nullable]
    found.append(named("key_unique", gxe.ExpectCompoundColumnsToBeUnique(column_list=["batch_id", *source.key])))
    return found


def on_business_date(column: str) -> gxe.Expectation:
    """Every row is dated on its batch's business date."""
    return named("on_business_date", gxe.ExpectColumnPairValuesToBeEqual(column_A=column, column_B=BUSINESS_DATE_COLUMN))


def not_after_business_date(column: str) -> gxe.Expectation:
    """No row is dated after its batch's business date (no future dates); an empty (nullable) date passes."""
    return named(
        "not_after_business_date",
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A=BUSINESS_DATE_COLUMN, column_B=column, or_equal=True, ignore_row_if="either_value_is_missing"
        ),
    )


def before_business_date(column: str) -> gxe.Expectation:
    """Every row is dated strictly before its batch's business date (history: the day's own row comes elsewhere)."""
    return named(
        "before_business_date",
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(column_A=BUSINESS_DATE_COLUMN, column_B=column, or_equal=False),
    )


def not_before(later: str, earlier: str) -> gxe.Expectation:
    """Where both dates are given, `later` is on or after `earlier` (an end is not before its start)."""
    return named(
        "dates_in_order",
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A=later, column_B=earlier, or_equal=True, ignore_row_if="either_value_is_missing"
        ),
    )
