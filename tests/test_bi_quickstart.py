"""The BI quick start (docs/bi_quickstart.md) and its Superset bundle (docs/bi/superset/), tried on a warehouse the
daily pipeline built: the page's login is a BI reader and nothing else; every query of the page, every dataset and
every chart of the bundle runs as that login; the zip is what its script builds from the folder; the bundle is a
Superset dashboard export that names only the schemas bi and warning and carries no password.

The queries are read from the Markdown and the YAML themselves, so the page, the bundle and this test cannot drift.
"""

from __future__ import annotations

import importlib.util
import io
import json
import os
import re
import secrets
import zipfile
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

import psycopg2
import psycopg2.errors
import pytest
import yaml
from psycopg2 import sql

from warning_models.warehouse import connect

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "bi_quickstart.md"
SUPERSET = ROOT / "docs" / "bi" / "superset"
BUNDLE = SUPERSET / "ews_risk_dashboard"
ZIP_PATH = SUPERSET / "ews_risk_dashboard.zip"
BI_SCHEMAS = {"bi", "warning"}
PASSWORD_MASK = "XXXXXXXXXX"  # what Superset writes in place of a password it does not export

# What a risk analyst must see on the small bank: the open alerts and an indicator's history.
QUERIES_WITH_ROWS = (
    "Open alerts by domain and severity",
    "Open high alerts, with why",
    "An indicator against its threshold over time",
)
CHARTS_WITH_ROWS = (
    "Open alerts by domain and severity",
    "Open high alerts",
    "Market stress regime against its threshold",
)


# ------------------------------------------------------------------------------------------------ the page


def _sql_blocks(section: str) -> list[tuple[str, str]]:
    """(the ### heading above it, SQL) of every ```sql block of a Markdown section."""
    blocks, heading, current = [], "", None
    for line in section.splitlines():
        if current is not None:
            if line.strip() == "```":
                blocks.append((heading, "\n".join(current)))
                current = None
            else:
                current.append(line)
        elif line.startswith("### "):
            heading = line[4:].strip()
        elif line.strip() == "```sql":
            current = []
    assert current is None, "an unclosed ```sql block"
    return blocks


def _section(title_part: str) -> str:
    """The text of the one `## ` section of the page whose title contains `title_part`."""
    sections = re.split(r"^## ", DOC.read_text(encoding="utf-8"), flags=re.M)[1:]
    found = [s for s in sections if title_part in s.splitlines()[0]]
    assert len(found) == 1, f"{DOC.name}: {len(found)} sections titled like {title_part!r}"
    return found[0]


MORNING_QUERIES = _sql_blocks(_section("morning queries"))


def _login_setup() -> str:
    blocks = _sql_blocks(_section("read-only login"))
    assert len(blocks) == 1, "the login section holds one ```sql block"
    return blocks[0][1]


# ------------------------------------------------------------------------------------------------ the bundle


def _bundle_files() -> dict[str, str]:
    """Every file of the bundle's folder, by its path inside the folder."""
    names = sorted(p.relative_to(BUNDLE).as_posix() for p in BUNDLE.rglob("*") if p.is_file())
    return {name: (BUNDLE / name).read_text(encoding="utf-8") for name in names}


def _configs(prefix: str) -> dict[str, dict[str, Any]]:
    out = {}
    for name, text in _bundle_files().items():
        if name.startswith(prefix):
            config = yaml.safe_load(text)
            assert isinstance(config, dict), name
            out[name] = config
    return out


DATASETS = _configs("datasets/")
CHARTS = _configs("charts/")
DATASETS_BY_UUID = {c["uuid"]: c for c in DATASETS.values()}

# The fields Superset's import schemas (ImportV1*Schema, 4.x and 5.x) take; any other field is refused on import.
DATABASE_FIELDS = {
    "database_name", "sqlalchemy_uri", "password", "cache_timeout", "expose_in_sqllab", "allow_run_async", "allow_ctas",
    "allow_cvas", "allow_dml", "allow_csv_upload", "allow_file_upload", "extra", "uuid", "version",
    "is_managed_externally", "external_url", "ssh_tunnel",
}
DATASET_FIELDS = {
    "table_name", "main_dttm_col", "description", "default_endpoint", "offset", "cache_timeout", "schema", "sql",
    "params", "template_params", "filter_select_enabled", "fetch_values_predicate", "extra", "uuid", "columns",
    "metrics", "version", "database_uuid", "data", "is_managed_externally", "external_url", "normalize_columns",
    "always_filter_main_dttm",
}
COLUMN_FIELDS = {
    "column_name", "extra", "verbose_name", "is_dttm", "is_active", "type", "advanced_data_type", "groupby",
    "filterable", "expression", "description", "python_date_format",
}
METRIC_FIELDS = {
    "metric_name", "verbose_name", "metric_type", "expression", "description", "d3format", "currency", "extra",
    "warning_text",
}
CHART_FIELDS = {
    "slice_name", "description", "certified_by", "certification_details", "viz_type", "params", "query_context",
    "cache_timeout", "uuid", "version", "dataset_uuid", "is_managed_externally", "external_url",
}
DASHBOARD_FIELDS = {
    "dashboard_title", "description", "css", "slug", "uuid", "position", "metadata", "version",
    "is_managed_externally", "external_url", "certified_by", "certification_details", "published",
}
REQUIRED = {
    "databases/": {"database_name", "sqlalchemy_uri", "uuid", "version"},
    "datasets/": {"table_name", "uuid", "database_uuid", "version"},
    "charts/": {"slice_name", "viz_type", "uuid", "dataset_uuid", "version"},
    "dashboards/": {"dashboard_title", "uuid", "version"},
}
ALLOWED = {
    "databases/": DATABASE_FIELDS,
    "datasets/": DATASET_FIELDS,
    "charts/": CHART_FIELDS,
    "dashboards/": DASHBOARD_FIELDS,
}


def _build_zip_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("ews_bi_build_zip", SUPERSET / "build_zip.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _dataset_source(dataset: dict[str, Any]) -> sql.Composable:
    """FROM clause of a dataset as Superset writes it: the virtual dataset's SQL as a subquery, or the relation."""
    if dataset.get("sql"):
        return sql.SQL("({}) AS virtual_table").format(sql.SQL(dataset["sql"].strip()))
    return sql.Identifier(dataset["schema"], dataset["table_name"])


def _chart_query(chart: dict[str, Any]) -> sql.Composed:
    """The query Superset sends for the chart, from its params: the raw table's columns, or the x axis (truncated to
    its time grain) and the groupby columns with the metrics; the ad hoc filters; the order and the row limit.
    A column, metric, filter or chart type this does not know fails the test rather than being skipped."""
    name, params = chart["slice_name"], chart["params"]
    dataset = DATASETS_BY_UUID[chart["dataset_uuid"]]
    columns = {c["column_name"]: c for c in dataset["columns"]}
    saved_metrics = {m["metric_name"]: m["expression"] for m in dataset["metrics"]}

    def column(col: str) -> sql.Identifier:
        assert col in columns, f"chart {name!r}: column {col!r} is not in dataset {dataset['table_name']!r}"
        return sql.Identifier(col)

    where: list[sql.Composable] = []
    for f in params.get("adhoc_filters", []):
        if f["expressionType"] == "SQL":
            assert f["clause"] == "WHERE", name
            where.append(sql.SQL("({})").format(sql.SQL(f["sqlExpression"])))
        elif f["operator"] == "TEMPORAL_RANGE":
            assert columns[f["subject"]]["is_dttm"] and f["comparator"] == "No filter", name
        elif f["operator"] == "==":
            where.append(sql.SQL("{} = {}").format(column(f["subject"]), sql.Literal(f["comparator"])))
        elif f["operator"] == "IN":
            where.append(sql.SQL("{} IN ({})").format(
                column(f["subject"]), sql.SQL(", ").join(sql.Literal(v) for v in f["comparator"])))
        else:
            raise AssertionError(f"chart {name!r}: filter operator {f['operator']!r} not known to this test")

    group: list[sql.Composable] = []
    if params["viz_type"] == "table":
        assert params["query_mode"] == "raw", name
        select: list[sql.Composable] = [column(c) for c in params["all_columns"]]
        order = [
            sql.SQL("{} {}").format(column(col), sql.SQL("ASC" if ascending else "DESC"))
            for col, ascending in map(json.loads, params.get("order_by_cols", []))
        ]
    elif params["viz_type"] in ("echarts_timeseries_bar", "echarts_timeseries_line"):
        x_axis: sql.Composable = column(params["x_axis"])
        grain = params.get("time_grain_sqla")
        if grain is not None:
            assert grain == "P1D" and columns[params["x_axis"]]["is_dttm"], name
            x_axis = sql.SQL("DATE_TRUNC('day', {})").format(x_axis)
        group = [x_axis, *(column(g) for g in params["groupby"])]
        metrics: list[sql.Composable] = []
        for m in params["metrics"]:
            if isinstance(m, str):
                assert m in saved_metrics, f"chart {name!r}: metric {m!r} is not in the dataset"
                metrics.append(sql.SQL("{} AS {}").format(sql.SQL(saved_metrics[m]), sql.Identifier(m)))
            elif m["expressionType"] == "SQL":
                metrics.append(sql.SQL("{} AS {}").format(sql.SQL(m["sqlExpression"]), sql.Identifier(m["label"])))
            else:
                assert m["expressionType"] == "SIMPLE", name
                metrics.append(sql.SQL("{}({}) AS {}").format(
                    sql.SQL(m["aggregate"]), column(m["column"]["column_name"]), sql.Identifier(m["label"])))
        assert metrics, name
        select = [sql.SQL("{} AS {}").format(group[0], sql.Identifier(params["x_axis"])), *group[1:], *metrics]
        order = [sql.SQL("{} ASC").format(group[0])]
    else:
        raise AssertionError(f"chart {name!r}: viz_type {params['viz_type']!r} not known to this test")

    query = sql.SQL("SELECT {} FROM {}").format(sql.SQL(", ").join(select), _dataset_source(dataset))
    if where:
        query += sql.SQL(" WHERE ") + sql.SQL(" AND ").join(where)
    if group:
        query += sql.SQL(" GROUP BY ") + sql.SQL(", ").join(group)
    if order:
        query += sql.SQL(" ORDER BY ") + sql.SQL(", ").join(order)
    return query + sql.SQL(" LIMIT {}").format(sql.Literal(int(params["row_limit"])))


# ------------------------------------------------------------------------------------------------ fixtures


def _as_login(url: str, user: str, password: str) -> str:
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit(parts._replace(netloc=f"{user}:{password}@{host}"))


@pytest.fixture(scope="module")
def bi_login(bank_run: tuple[str, Path, list]) -> Iterator[str]:  # type: ignore[type-arg]
    """The page's login, created by the page's own statements (name and password replaced): a BI tool's URL."""
    url = bank_run[0]
    name = f"ews_test_bi_quickstart_{os.getpid()}"
    password = secrets.token_hex(16)
    setup = _login_setup()
    assert "'...'" in setup and re.search(r"\bsuperset\b", setup)
    statements = re.sub(r"\bsuperset\b", name, setup).replace("'...'", f"'{password}'")
    with connect(url, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(name)))
        cur.execute(statements)
    yield _as_login(url, name, password)
    with connect(url, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(name)))


def _rows(login: str, query: str | sql.Composable) -> tuple[list[str], list[int], list[tuple[Any, ...]]]:
    """Column names, column type oids and rows of a query run as the login (read only, rolled back)."""
    conn = psycopg2.connect(login)
    try:
        conn.set_session(readonly=True)
        with conn.cursor() as cur:
            cur.execute(query)
            assert cur.description is not None
            names = [d.name for d in cur.description]
            types = [d.type_code for d in cur.description]
            return names, types, cur.fetchall()
    finally:
        conn.rollback()
        conn.close()


def _relations_named(url: str, query: str) -> set[tuple[str, str]]:
    """(schema, relation) of every table or view the query names, as PostgreSQL resolved them: the direct
    dependencies of a temporary view over the query (rolled back)."""
    with connect(url) as conn, conn.cursor() as cur:
        cur.execute(sql.SQL("create temporary view ews_bi_probe as {}").format(sql.SQL(query.strip())))
        cur.execute(
            """select distinct n.nspname, c.relname
               from pg_rewrite r
               join pg_depend d on d.classid = 'pg_rewrite'::regclass and d.objid = r.oid
                                and d.refclassid = 'pg_class'::regclass
               join pg_class c on c.oid = d.refobjid
               join pg_namespace n on n.oid = c.relnamespace
               where r.ev_class = 'pg_temp.ews_bi_probe'::regclass and c.oid <> r.ev_class"""
        )
        found = {(schema, relation) for schema, relation in cur.fetchall()}
        conn.rollback()
    return found


# ------------------------------------------------------------------------------------------------ the login


def test_the_page_login_is_a_read_only_bi_reader_and_nothing_else(bi_login: str) -> None:
    conn = psycopg2.connect(bi_login)
    try:
        with conn.cursor() as cur:
            cur.execute(
                """select r.rolsuper, r.rolcreaterole, r.rolcreatedb, r.rolbypassrls,
                          array(select g.rolname from pg_auth_members m join pg_roles g on g.oid = m.roleid
                                where m.member = r.oid order by 1),
                          current_setting('transaction_read_only')
                   from pg_roles r where r.rolname = current_user"""
            )
            superuser, createrole, createdb, bypassrls, groups, read_only = cur.fetchone()
        assert not (superuser or createrole or createdb or bypassrls)
        assert groups == ["ews_bi_reader"]
        assert read_only == "on"
        conn.rollback()
        # a write is refused twice over: no privilege, and the session is read only
        with pytest.raises((psycopg2.errors.ReadOnlySqlTransaction, psycopg2.errors.InsufficientPrivilege)):
            with conn.cursor() as cur:
                cur.execute("update warning.alerts set severity = 'low'")
        conn.rollback()
        with pytest.raises(psycopg2.errors.InsufficientPrivilege), conn.cursor() as cur:
            cur.execute("set transaction read write; update warning.alerts set severity = 'low'")
    finally:
        conn.close()


# ------------------------------------------------------------------------------------------------ the page's queries


def test_the_page_has_the_morning_queries() -> None:
    titles = [title for title, _ in MORNING_QUERIES]
    assert 6 <= len(MORNING_QUERIES) <= 10, titles
    assert len(set(titles)) == len(titles) and all(titles), titles
    for title in QUERIES_WITH_ROWS:
        assert title in titles, f"the page lost the query {title!r}"
    for title, query in MORNING_QUERIES:
        assert not query.rstrip().endswith(";"), f"{title}: one statement, no trailing semicolon (SQL Lab, Metabase)"


@pytest.mark.parametrize(("title", "query"), MORNING_QUERIES, ids=[t for t, _ in MORNING_QUERIES])
def test_every_morning_query_runs_as_the_bi_login(bi_login: str, title: str, query: str) -> None:
    names, _, rows = _rows(bi_login, query)
    assert names and len(set(names)) == len(names), f"{title}: unnamed or repeated columns {names}"
    if title in QUERIES_WITH_ROWS:
        assert rows, f"{title}: no rows on a bank with known episodes"


def test_the_page_queries_name_only_bi_and_warning(bank_run: tuple[str, Path, list]) -> None:  # type: ignore[type-arg]
    for title, query in MORNING_QUERIES:
        named = _relations_named(bank_run[0], query)
        assert named, title
        assert {schema for schema, _ in named} <= BI_SCHEMAS, f"{title}: {sorted(named)}"


# ------------------------------------------------------------------------------------------------ the bundle as files


def test_the_zip_is_what_the_script_builds_from_the_folder() -> None:
    module = _build_zip_module()
    assert ZIP_PATH.read_bytes() == module.build(BUNDLE), (
        "the zip and the folder differ: run .venv/bin/python docs/bi/superset/build_zip.py"
    )
    files = _bundle_files()
    with zipfile.ZipFile(io.BytesIO(ZIP_PATH.read_bytes())) as bundle:
        assert bundle.testzip() is None
        names = bundle.namelist()
        assert names == sorted(names)
        assert names == [f"{BUNDLE.name}/{name}" for name in files]
        for name in names:
            assert name.endswith(".yaml"), name
            config = yaml.safe_load(bundle.read(name).decode("utf-8"))
            assert isinstance(config, dict) and config, name
            assert bundle.getinfo(name).date_time == (1980, 1, 1, 0, 0, 0)


def test_the_script_writes_another_warehouse_and_keeps_the_password_masked() -> None:
    module = _build_zip_module()
    other = module.build(BUNDLE, warehouse="db.bank.example:6432/ews_prod")
    with zipfile.ZipFile(io.BytesIO(other)) as bundle:
        changed = [
            n for n in bundle.namelist()
            if bundle.read(n) != (BUNDLE / n.split("/", 1)[1]).read_bytes()
        ]
        assert changed == [f"{BUNDLE.name}/databases/ews_warehouse.yaml"]
        uri = yaml.safe_load(bundle.read(changed[0]))["sqlalchemy_uri"]
    assert uri == f"postgresql+psycopg2://superset:{PASSWORD_MASK}@db.bank.example:6432/ews_prod"
    for bad in ("db.bank.example/ews", "x'; drop role ews_bi_reader; --:5432/ews", "h:5432/db extra"):
        with pytest.raises(ValueError):
            module.build(BUNDLE, warehouse=bad)


def test_the_bundle_is_a_superset_dashboard_export() -> None:
    files = _bundle_files()
    metadata = yaml.safe_load(files["metadata.yaml"])
    assert metadata["version"] == "1.0.0" and metadata["type"] == "Dashboard" and metadata["timestamp"]
    kinds = {name.split("/", 1)[0] + "/" for name in files if "/" in name}
    assert kinds == set(REQUIRED), kinds
    configs = {name: yaml.safe_load(text) for name, text in files.items() if "/" in name}
    for name, config in configs.items():
        kind = name.split("/", 1)[0] + "/"
        assert REQUIRED[kind] <= set(config), f"{name}: missing {REQUIRED[kind] - set(config)}"
        assert set(config) <= ALLOWED[kind], f"{name}: fields Superset would refuse: {set(config) - ALLOWED[kind]}"
        assert config["version"] == "1.0.0", name
    for dataset in DATASETS.values():
        for c in dataset["columns"]:
            assert set(c) <= COLUMN_FIELDS, (dataset["table_name"], set(c) - COLUMN_FIELDS)
        for m in dataset["metrics"]:
            assert set(m) <= METRIC_FIELDS, (dataset["table_name"], set(m) - METRIC_FIELDS)

    databases = [c for n, c in configs.items() if n.startswith("databases/")]
    dashboards = [c for n, c in configs.items() if n.startswith("dashboards/")]
    assert len(databases) == 1 and len(dashboards) == 1
    uuids = [c["uuid"] for c in configs.values()]
    assert len(set(uuids)) == len(uuids), "every object has its own uuid"
    assert {d["database_uuid"] for d in DATASETS.values()} == {databases[0]["uuid"]}
    for chart in CHARTS.values():
        assert chart["dataset_uuid"] in DATASETS_BY_UUID, chart["slice_name"]
        assert chart["params"]["viz_type"] == chart["viz_type"], chart["slice_name"]

    # the dashboard's layout: a tree from ROOT_ID in which every chart of the bundle sits once, by uuid and name
    position = dashboards[0]["position"]
    assert position["DASHBOARD_VERSION_KEY"] == "v2"
    seen: list[str] = []

    def walk(node_id: str, parents: list[str]) -> None:
        node = position[node_id]
        assert node.get("id") == node_id and (node.get("parents") or []) == parents, node_id
        seen.append(node_id)
        for child in node.get("children") or []:
            walk(child, [*parents, node_id])

    walk("ROOT_ID", [])
    components = {k for k, v in position.items() if isinstance(v, dict) and k != "HEADER_ID"}
    assert sorted(seen) == sorted(components), "every component is reached once from ROOT_ID"
    placed = {v["meta"]["uuid"]: v["meta"]["sliceName"] for v in position.values()
              if isinstance(v, dict) and v["type"] == "CHART"}
    assert placed == {c["uuid"]: c["slice_name"] for c in CHARTS.values()}
    for row in (v for v in position.values() if isinstance(v, dict) and v["type"] == "ROW"):
        assert sum(position[c]["meta"]["width"] for c in row["children"]) <= 12, row["id"]
    json.loads(dashboards[0]["metadata"].get("default_filters", "{}"))


def test_the_database_file_holds_no_password() -> None:
    files = _bundle_files()
    (database,) = [yaml.safe_load(t) for n, t in files.items() if n.startswith("databases/")]
    assert "password" not in database and "masked_encrypted_extra" not in database
    parts = urlsplit(database["sqlalchemy_uri"])
    assert parts.scheme == "postgresql+psycopg2"
    assert (unquote(parts.username or ""), unquote(parts.password or "")) == ("superset", PASSWORD_MASK)
    assert database["allow_dml"] is False and database["allow_ctas"] is False and database["allow_cvas"] is False

    def keys(value: Any) -> Iterator[str]:
        if isinstance(value, dict):
            for k, v in value.items():
                yield str(k)
                yield from keys(v)
        elif isinstance(value, list):
            for v in value:
                yield from keys(v)

    for name, text in files.items():
        secretive = [k for k in keys(yaml.safe_load(text)) if re.search(r"password|secret|token|encrypted", k, re.I)]
        assert not secretive, f"{name}: {secretive}"
        for uri in re.findall(r"[a-z0-9+]+://[^\s'\"]+", text):
            assert urlsplit(uri).password in (None, PASSWORD_MASK), f"{name}: a password in {uri}"


# ------------------------------------------------------------------------------------------------ bundle on warehouse


def test_every_dataset_names_only_bi_and_warning(bank_run: tuple[str, Path, list]) -> None:  # type: ignore[type-arg]
    assert DATASETS
    for name, dataset in DATASETS.items():
        assert dataset["schema"] in BI_SCHEMAS, name
        if dataset.get("sql"):
            named = _relations_named(bank_run[0], dataset["sql"])
            assert named and {schema for schema, _ in named} <= BI_SCHEMAS, f"{name}: {sorted(named)}"
        else:
            with connect(bank_run[0]) as conn, conn.cursor() as cur:
                cur.execute("select to_regclass(%s) is not null", (f"{dataset['schema']}.{dataset['table_name']}",))
                assert cur.fetchone()[0], f"{name}: no relation {dataset['schema']}.{dataset['table_name']}"


def test_every_dataset_runs_as_the_bi_login_with_the_columns_it_declares(bi_login: str) -> None:
    for name, dataset in DATASETS.items():
        assert not (dataset.get("sql") or "").rstrip().endswith(";"), f"{name}: Superset wraps the SQL in a subquery"
        names, types, _ = _rows(bi_login, sql.SQL("SELECT * FROM {} LIMIT 100").format(_dataset_source(dataset)))
        declared = {c["column_name"]: c for c in dataset["columns"]}
        assert set(names) == set(declared), f"{name}: {set(names) ^ set(declared)}"
        conn = psycopg2.connect(bi_login)
        try:
            with conn.cursor() as cur:
                for column, oid in zip(names, types, strict=True):
                    cur.execute("select upper(format_type(%s, null))", (oid,))
                    actual = cur.fetchone()[0]
                    declared_type = declared[column]["type"]
                    assert declared_type == actual, f"{name}.{column}: declared {declared_type}, is {actual}"
                    is_time = actual in ("DATE", "TIMESTAMP WITH TIME ZONE", "TIMESTAMP WITHOUT TIME ZONE")
                    assert declared[column]["is_dttm"] == is_time, f"{name}.{column}"
        finally:
            conn.close()
        main = dataset.get("main_dttm_col")
        assert main is None or declared[main]["is_dttm"], f"{name}: main_dttm_col {main!r}"


@pytest.mark.parametrize("chart_file", sorted(CHARTS), ids=[CHARTS[n]["slice_name"] for n in sorted(CHARTS)])
def test_every_chart_query_runs_as_the_bi_login(bi_login: str, chart_file: str) -> None:
    chart = CHARTS[chart_file]
    names, _, rows = _rows(bi_login, _chart_query(chart))
    assert names
    if chart["slice_name"] in CHARTS_WITH_ROWS:
        assert rows, f"{chart['slice_name']}: no rows on a bank with known episodes"


def test_the_charts_the_page_promises_are_in_the_bundle() -> None:
    names = {c["slice_name"] for c in CHARTS.values()}
    for name in CHARTS_WITH_ROWS:
        assert name in names
    page = _section("Superset dashboard")
    for name in names:
        assert f"| {name} |" in page, f"the page's chart table lacks {name!r}"
    viz = {c["slice_name"]: c["viz_type"] for c in CHARTS.values()}
    assert viz["Open alerts by domain and severity"] == "echarts_timeseries_bar"
    assert viz["Alert cases opened per day"] == "echarts_timeseries_line"
    assert viz["Market stress regime against its threshold"] == "echarts_timeseries_line"
    assert viz["Data-quality failures per day"] == "echarts_timeseries_bar"
    assert viz["Open high alerts"] == viz["Evaluation against known episodes"] == "table"
