"""The daily report as one static HTML page (no script, no external asset): every text from the warehouse is
escaped, the charts are PNG files beside it."""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence

from warning_models.report.data import DOMAINS, ReportData

STYLE = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 24px auto; max-width: 1000px;
       color: #222; }
h1 { font-size: 22px; margin-bottom: 4px; } h2 { font-size: 17px; margin-top: 28px; border-bottom: 1px solid #ddd; }
h3 { font-size: 14px; margin: 14px 0 4px; }
table { border-collapse: collapse; font-size: 12px; margin: 6px 0 12px; width: 100%; }
th, td { border: 1px solid #ddd; padding: 4px 6px; text-align: left; vertical-align: top; }
th { background: #f3f5f7; } .num { text-align: right; white-space: nowrap; }
.high { color: #b03a2e; font-weight: 600; } .medium { color: #b9770e; } .low { color: #555; }
.muted { color: #777; font-size: 12px; } img { width: 100%; max-width: 900px; }
.tiles { display: flex; gap: 10px; flex-wrap: wrap; } .tile { border: 1px solid #ddd; padding: 8px 12px; min-width: 150px; }
.tile b { font-size: 18px; display: block; }
"""


def _e(value: object) -> str:
    return html.escape("" if value is None else str(value))


def _table(headers: Sequence[str], rows: Iterable[Sequence[object]], numeric: Sequence[int] = ()) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(
            f"<td class='num'>{_e(v)}</td>" if i in numeric else f"<td>{v if isinstance(v, _Html) else _e(v)}</td>"
            for i, v in enumerate(row)
        ) + "</tr>"
        for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


class _Html(str):
    """Markup built here from escaped parts: put in a cell as it is."""


def _severity(value: str) -> _Html:
    return _Html(f"<span class='{_e(value)}'>{_e(value)}</span>")


def _fmt(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def render(data: ReportData, charts: dict[str, str]) -> str:
    day = data.business_date
    tiles = "".join(
        f"<div class='tile'>{_e(domain.replace('_', ' '))}<b>{data.count(domain, 'high')} high</b>"
        f"<span class='muted'>{data.count(domain, 'medium')} medium, {data.count(domain, 'low')} low</span></div>"
        for domain in DOMAINS
    )
    parts = [
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>ews daily report {day}</title>"
        f"<style>{STYLE}</style></head><body>",
        f"<h1>Early-warning report for {day}</h1>",
        "<p class='muted'>Open alert cases (new, open or acknowledged) by domain, as the warehouse stood on the "
        "business date. Built by <code>ews report</code>.</p>",
        f"<div class='tiles' id='summary'>{tiles}</div>",
        "<h2 id='top-alerts'>Top alerts</h2>",
    ]
    for domain in DOMAINS:
        top = data.top_cases(domain)
        parts.append(f"<h3>{_e(domain.replace('_', ' '))}</h3>")
        if not top:
            parts.append("<p class='muted'>No open alert.</p>")
            continue
        parts.append(_table(
            ["severity", "entity", "indicator", "status", "since", "days", "why"],
            [(_severity(c.severity), f"{c.entity_type} {c.entity_id}", c.indicator,
              c.status.value + (" (escalated)" if c.is_escalated else ""), c.first_seen_date, c.alerted_days,
              c.explanation) for c in top],
            numeric=(5,),
        ))
    parts.append("<h2 id='indicators'>Key indicators</h2>")
    parts.append("<p class='muted'>The last 180 days up to the business date; dashed lines are thresholds, red dots "
                 "the days an alert fired.</p>")
    for series in data.series:
        if series.spec.key in charts:
            parts.append(f"<img src='{_e(charts[series.spec.key])}' alt='{_e(series.spec.title)}'>")
    if "market_var" in charts:
        parts.append(f"<img src='{_e(charts['market_var'])}' alt='Market VaR and exceptions'>")
    parts.append("<h2 id='data-quality'>Data quality</h2>")
    passed = sum(1 for b in data.batches if b[1] == "passed")
    held = sum(1 for b in data.batches if b[1] == "quarantined")
    parts.append(f"<p>{passed} batch(es) passed the gate for {day}, {held} held back; {data.open_quarantine} "
                 "batch(es) held back and not replaced since (<code>ews quarantine list</code>).</p>")
    parts.append(_table(["source", "status", "rows", "file"], data.batches, numeric=(2,)))
    if data.dq_alerts:
        parts.append(_table(["severity", "batch", "rule and rows"],
                            [(_severity(s), b, e) for s, b, e in data.dq_alerts]))
    parts.append("<h2 id='model-health'>Model health</h2>")
    credit = data.credit_health
    parts.append(_table(["model", "measure", "value"], [
        *[("credit PD scorecard", k, _fmt(v)) for k, v in credit.items()],
        *[("macro logit EWS", k, _fmt(v)) for k, v in data.macro_health.items()],
        *[("access score", k, _fmt(v, 0)) for k, v in data.access_health.items()],
    ], numeric=(2,)))
    if data.var_backtests:
        parts.append("<h3>VaR backtests over the last 250 trading days (Basel traffic light at 99 %)</h3>")
        parts.append(_table(
            ["portfolio", "method", "confidence %", "exceptions", "days", "zone", "Kupiec p", "cond. coverage p"],
            [(b.entity_id, b.method, f"{b.confidence_pct:g}", b.exceptions, b.observations, b.zone,
              _fmt(b.kupiec_p), _fmt(b.conditional_coverage_p)) for b in data.var_backtests],
            numeric=(2, 3, 4, 6, 7),
        ))
    if data.evaluation:
        parts.append("<h3>Evaluation against the synthetic bank's truth (<code>ews evaluate</code>)</h3>")
        parts.append(_table(["domain", "episodes", "detected", "false alarms per 1,000", "median lead (days)", "AUROC"],
                            [(d, n, k, _fmt(f, 2), _fmt(l, 0), _fmt(a)) for d, n, k, f, l, a in data.evaluation],
                            numeric=(1, 2, 3, 4, 5)))
    parts.append("</body></html>")
    return "\n".join(parts)
