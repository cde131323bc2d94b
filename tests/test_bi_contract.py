"""The BI contract: docs/bi_contract.md lists exactly the contracted columns of schema bi, and the views the
pipeline built have exactly those columns and types (a change to one is a contract change, made on purpose)."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg2

from warning_models.bi_contract import contract_markdown, contracted_relations

DOC = Path(__file__).resolve().parents[1] / "docs" / "bi_contract.md"


def _manifest(dbt_target: Path) -> dict:  # type: ignore[type-arg]
    return json.loads((dbt_target / "manifest.json").read_text(encoding="utf-8"))


def test_the_contract_document_is_the_models(dbt_target: Path) -> None:
    expected = contract_markdown(_manifest(dbt_target))
    assert DOC.read_text(encoding="utf-8") == expected, (
        "schema bi changed: regenerate docs/bi_contract.md "
        "(python -m warning_models.bi_contract dbt_project/target/manifest.json) and review the contract change"
    )
    relations = contracted_relations(_manifest(dbt_target))
    assert {"bi.alerts_current", "bi.alert_cases", "bi.alert_history", "bi.indicator_values", "bi.model_runs",
            "bi.evaluation_results", "bi.batches", "bi.data_quality_results", "bi.borrowers"} == set(relations)


def test_the_built_views_have_exactly_the_contracted_columns(bank_run: tuple[str, Path, list], dbt_target: Path) -> None:  # type: ignore[type-arg]
    relations = contracted_relations(_manifest(dbt_target))
    with psycopg2.connect(bank_run[0]) as conn, conn.cursor() as cur:
        cur.execute(
            """select table_name, column_name, data_type from information_schema.columns
               where table_schema = 'bi' order by table_name, ordinal_position"""
        )
        built: dict[str, list[tuple[str, str]]] = {}
        for table, column, data_type in cur.fetchall():
            built.setdefault(f"bi.{table}", []).append((column, data_type))
    assert built == {r: [(c, t) for c, t, _ in columns] for r, columns in relations.items()}
