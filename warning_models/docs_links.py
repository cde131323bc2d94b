"""Where the documentation sites are, for the DAGs' doc_md: GX Data Docs, dbt docs, the daily reports.

Read from the environment only (a DAG file does no I/O when Airflow parses it): EWS_DATA_DOCS_URL,
EWS_DBT_DOCS_URL and EWS_REPORTS_URL when the sites are served (a web server, an object store), else the files
under EWS_HOME where ews writes them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping


def docs_links(environ: Mapping[str, str] | None = None) -> str:
    env = os.environ if environ is None else environ
    home = env.get("EWS_HOME") or "./.ews"
    gx_home = env.get("EWS_GX_HOME") or f"{home}/gx"
    links = [
        ("Great Expectations Data Docs (every gate result)", env.get("EWS_DATA_DOCS_URL") or f"{gx_home}/data_docs/index.html"),
        ("dbt docs (models, columns, tests, lineage)", env.get("EWS_DBT_DOCS_URL") or f"{home}/dbt_docs/static_index.html"),
        ("Daily reports (one page per business date)", env.get("EWS_REPORTS_URL") or f"{home}/reports/"),
    ]
    lines = "\n".join(
        f"- {label}: [{target}]({target})" if "://" in target else f"- {label}: `{target}`" for label, target in links
    )
    return f"\n#### Documentation\n\n{lines}\n"
