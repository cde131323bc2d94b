"""The BI contract: every relation of schema bi with its columns and types, as dbt's manifest declares them.

``docs/bi_contract.md`` is this, written out; a test keeps the two equal, so a change to a column BI tools read
shows up as a change to that file in review: a contract change, made on purpose.

    .venv/bin/python -m warning_models.bi_contract dbt_project/target/manifest.json > docs/bi_contract.md
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

HEADER = """# BI contract: the relations of schema `bi`

Generated from dbt's manifest by `python -m warning_models.bi_contract` (a test keeps this file equal to the
models): every column here is enforced by a dbt contract. Changing one is a contract change: bump the dashboard
(docs/bi_quickstart.md) in the same change."""


def contracted_relations(manifest: dict[str, Any]) -> dict[str, list[tuple[str, str, str]]]:
    """bi.<relation> -> [(column, data type, description)] in the model's column order."""
    out: dict[str, list[tuple[str, str, str]]] = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] != "model" or node.get("schema") != "bi":
            continue
        if not node["config"].get("contract", {}).get("enforced"):
            raise ValueError(f"{node['name']}: a model of schema bi without an enforced contract")
        relation = f"bi.{node.get('alias') or node['name']}"
        out[relation] = [(c["name"], c["data_type"], " ".join((c.get("description") or "").split()))
                         for c in node["columns"].values()]
    return dict(sorted(out.items()))


def contract_markdown(manifest: dict[str, Any]) -> str:
    parts = [HEADER]
    for relation, columns in contracted_relations(manifest).items():
        parts.append(f"\n## `{relation}`\n\n| column | type | meaning |\n|---|---|---|")
        parts += [f"| `{name}` | {data_type} | {text.replace('|', '/')} |" for name, data_type, text in columns]
    return "\n".join(parts) + "\n"


if __name__ == "__main__":
    sys.stdout.write(contract_markdown(json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))))
