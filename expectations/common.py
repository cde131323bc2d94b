"""Expectations every source gets from the landing contract: column set, not-null, key uniqueness."""

from __future__ import annotations

import great_expectations.expectations as gxe

from warning_models.contract import Source

BOOKKEEPING_COLUMNS = ("batch_id", "source_line")


def contract_expectations(source: Source) -> list[gxe.Expectation]:
    """Columns exactly as the contract says, non-nullable columns filled, keys unique within the batch."""
    found: list[gxe.Expectation] = [
        gxe.ExpectTableColumnsToMatchSet(column_set=[*BOOKKEEPING_COLUMNS, *source.column_names], exact_match=True),
    ]
    found += [gxe.ExpectColumnValuesToNotBeNull(column=c.name) for c in source.columns if not c.nullable]
    if len(source.key) == 1:
        found.append(gxe.ExpectColumnValuesToBeUnique(column=source.key[0]))
    else:
        found.append(gxe.ExpectCompoundColumnsToBeUnique(column_list=list(source.key)))
    if not source.may_be_empty:
        found.append(gxe.ExpectTableRowCountToBeBetween(min_value=1))
    return found
