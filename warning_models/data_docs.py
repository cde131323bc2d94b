"""Make GX's Data Docs safe to open on an offline bank machine, and give them an index that needs no scripts.

GX's pages load Bootstrap, jQuery and friends from public CDNs, and its index table is drawn by those scripts.
Opening them would call out to the internet from the analyst's browser. So every external script, stylesheet
and image reference is pointed at `static/vendor/<file>` inside the site instead; a bank may put those files
there, otherwise the pages render unstyled but never call out. `ews_index.html` lists every validation page in
plain HTML: batch run, suite, result, failed expectations.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

_EXTERNAL = re.compile(r'(<(?:script|link|img)\b[^>]*?\b(?:src|href)=")(https?://[^"]+)(")', re.IGNORECASE)
INDEX_NAME = "ews_index.html"


def localize_assets(site: Path) -> int:
    """Point external assets of every page at the site's static/vendor folder; return how many were changed."""
    changed = 0
    for page in site.rglob("*.html"):
        up = "../" * (len(page.relative_to(site).parts) - 1)

        def local(match: re.Match[str]) -> str:
            name = match.group(2).split("?")[0].rstrip("/").rsplit("/", 1)[-1] or "asset"
            return f"{match.group(1)}{up}static/vendor/{name}{match.group(3)}"

        text = page.read_text(encoding="utf-8")
        new, n = _EXTERNAL.subn(local, text)
        if n:
            page.write_text(new, encoding="utf-8")
            changed += n
    return changed


def write_plain_index(site: Path, results_dir: Path) -> Path:
    """A script-free index of the validation pages, newest first, from the stored validation results."""
    rows = []
    for result_file in sorted(results_dir.rglob("*.json"), reverse=True):
        relative = result_file.relative_to(results_dir)
        page = Path("validations") / relative.with_suffix(".html")
        try:
            result = json.loads(result_file.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        failed = [
            r.get("expectation_config", {}).get("meta", {}).get("check") or r.get("expectation_config", {}).get("type", "?")
            for r in result.get("results", [])
            if not r.get("success")
        ]
        run = result.get("meta", {}).get("run_id", {})
        rows.append(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><a href=\"{}\">page</a></td></tr>".format(
                html.escape(str(run.get("run_time", ""))[:19]),
                html.escape(str(run.get("run_name", ""))),
                html.escape(str(result.get("meta", {}).get("expectation_suite_name", relative.parts[0]))),
                "passed" if result.get("success") else "failed: " + html.escape(", ".join(sorted(set(failed)))),
                html.escape(page.as_posix()),
            )
        )
    index = site / INDEX_NAME
    index.write_text(
        "<!doctype html><meta charset=\"utf-8\"><title>ews data quality</title>"
        "<h1>ews: Great Expectations validation results</h1>"
        "<p>One row per gate run (a source's batches validated together). Failed means at least one expectation "
        "failed; which batches were held back is in <code>ews quarantine list</code>.</p>"
        "<table border=\"1\" cellpadding=\"4\"><tr><th>validated (UTC)</th><th>run</th><th>suite</th>"
        "<th>result</th><th>details</th></tr>" + "".join(rows) + "</table>",
        encoding="utf-8",
    )
    return index
