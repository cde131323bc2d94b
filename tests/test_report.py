"""The daily report, rendered from a warehouse the pipeline built: what it shows is what the warehouse knew that
day (top alerts per domain with their explanations, each key indicator with its threshold and alert days, data
quality, model health), as one static page with its PNG charts."""

from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser
from pathlib import Path

import psycopg2
import pytest

from tests.conftest import END
from warning_models.report.data import KEY_SERIES, collect

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.images: list[str] = []
        self.text: list[str] = []
        self.external: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"] or "")
        if tag == "img":
            self.images.append(a.get("src") or "")
        for key in ("src", "href"):
            if (a.get(key) or "").startswith(("http:", "https:", "//")):
                self.external.append(a[key] or "")
        if tag == "script":
            self.external.append("script")

    def handle_data(self, data: str) -> None:
        self.text.append(data)


@pytest.fixture(scope="module")
def report(bank_run: tuple[str, Path, list], tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, _Page]:  # type: ignore[type-arg]
    from warning_models.cli import main

    url, home, _ = bank_run
    out = tmp_path_factory.mktemp("report")
    import os

    saved = {k: os.environ.get(k) for k in ("EWS_DATABASE_URL", "EWS_HOME")}
    os.environ.update({"EWS_DATABASE_URL": url, "EWS_HOME": str(home)})
    try:
        assert main(["report", "--date", END.isoformat(), "--out", str(out)]) == 0
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    page = _Page()
    page.feed((out / "index.html").read_text(encoding="utf-8"))
    return out, page


def test_the_page_has_every_section_and_only_local_charts(report: tuple[Path, _Page]) -> None:
    out, page = report
    assert {"summary", "top-alerts", "indicators", "data-quality", "model-health"} <= page.ids
    assert page.external == []  # opens offline: no script, no remote asset
    assert len(page.images) >= 4
    for src in page.images:
        data = (out / src).read_bytes()
        assert data.startswith(PNG_MAGIC) and len(data) > 10_000, src
    text = " ".join(page.text)
    assert f"Early-warning report for {END}" in text


def test_the_top_alerts_are_the_open_cases_of_the_day_with_their_explanations(
    bank_run: tuple[str, Path, list], report: tuple[Path, _Page]  # type: ignore[type-arg]
) -> None:
    url = bank_run[0]
    with psycopg2.connect(url) as conn:
        data = collect(conn, END)
    text = " ".join(report[1].text)
    shown = 0
    for domain in ("credit", "market", "macro", "access"):
        for case in data.top_cases(domain):
            assert case.explanation[:60] in text, (domain, case.case_id)
            assert case.last_seen_date <= END
            shown += 1
    assert shown >= 5
    # nothing after the business date: a report for an earlier day knows only that day's alerts
    early = END - dt.timedelta(days=40)
    with psycopg2.connect(url) as conn:
        before = collect(conn, early)
    assert all(c.last_seen_date <= early for c in before.cases)
    assert all(d <= early for s in before.series for d in s.dates)


def test_each_key_indicator_carries_its_threshold_and_alert_days(bank_run: tuple[str, Path, list]) -> None:  # type: ignore[type-arg]
    url = bank_run[0]
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        data = collect(conn, END)
        for series in data.series:
            spec = series.spec
            assert series.dates and len(series.dates) == len(series.values), spec.key
            assert series.threshold is not None, spec.key
            entity = "" if spec.entity_id is None else " and entity_id = %(entity)s"
            cur.execute(
                "select count(distinct as_of_date) from warning.alerts where indicator = %(indicator)s"
                f"{entity} and as_of_date between %(start)s and %(end)s",
                {"indicator": spec.indicator, "entity": spec.entity_id, "start": END - dt.timedelta(days=180), "end": END},
            )
            assert len(series.alert_dates) == cur.fetchone()[0], spec.key
    assert {s.spec.key for s in data.series} == {s.key for s in KEY_SERIES}
    assert any(s.alert_dates for s in data.series)
    assert data.var_points and all(p[1] < 0 for p in data.var_points)  # -VaR below zero
    assert data.var_backtests and {b.zone for b in data.var_backtests} <= {"green", "yellow", "red"}


def test_data_quality_and_model_health_are_the_days(bank_run: tuple[str, Path, list], report: tuple[Path, _Page]) -> None:  # type: ignore[type-arg]
    url = bank_run[0]
    with psycopg2.connect(url) as conn:
        data = collect(conn, END)
        with conn.cursor() as cur:
            cur.execute("select count(*) from audit.batches where business_date = %s", (END,))
            assert len(data.batches) == cur.fetchone()[0] > 0
        with conn.cursor() as cur:  # the latest figures each model had by then
            cur.execute(
                """select m.indicator, v.sample, v.metric, v.value from warning.model_validations v
                   join warning.model_runs m using (model_run_id)
                   where m.as_of_date <= %s and v.value is not null and (m.indicator, v.sample, v.metric) in
                         (('credit_pd_logit', 'today', 'score_psi'), ('macro_ews', 'out_of_sample', 'auroc'))
                   order by m.as_of_date""",
                (END,),
            )
            latest = {(i, s, k): v for i, s, k, v in cur.fetchall()}
    text = " ".join(report[1].text)
    assert re.search(rf"\d+ batch\(es\) passed the gate for {END}", text)
    assert latest, "the bank's models wrote validations"
    expected = {("credit_pd_logit", "today", "score_psi"): ("score PSI", data.credit_health),
                ("macro_ews", "out_of_sample", "auroc"): ("out-of-sample AUROC", data.macro_health)}
    for key, value in latest.items():
        label, shown = expected[key]
        assert shown[label] == pytest.approx(value) and label in text, key
    assert data.access_health["users scored"] > 0
