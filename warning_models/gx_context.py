"""The Great Expectations context the gate validates with, and the Data Docs site people browse.

The context is ephemeral (robust under parallel Airflow tasks; results are stored in audit.dq_results), with
analytics off. Given a GX folder, its validation results and suites are also kept there as JSON, so the Data
Docs site built from them (`<gx folder>/data_docs/index.html`) accumulates every run across processes; its
pages never load anything from the internet (`data_docs.py`), and `ews_index.html` lists them without scripts.
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from warning_models.privacy import disable_telemetry

if TYPE_CHECKING:
    from great_expectations.data_context import AbstractDataContext

SITE_NAME = "local_site"


def sqlalchemy_url(url: str) -> str:
    """The warehouse URL as SQLAlchemy (and GX's URL validation) want it.

    The embedded warehouse's URL names no host, only a socket folder (`postgresql://postgres:@/postgres?host=/dir`);
    GX rejects an empty host, so a placeholder host is set: libpq's `host` query parameter still wins.
    """
    parsed = urlsplit(url)
    netloc = parsed.netloc
    if not parsed.hostname and "host=" in parsed.query:
        netloc = (netloc[:-1] if netloc.endswith("@") else netloc) + ("@" if "@" in netloc else "") + "localhost"
    return urlunsplit(("postgresql+psycopg2", netloc, parsed.path, parsed.query, parsed.fragment))


def data_docs_index(gx_home: Path) -> Path:
    return gx_home / "data_docs" / "index.html"


def _project_config(gx_home: Path | None) -> Any:
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    defaults = InMemoryStoreBackendDefaults()
    sites: dict[str, Any] = {}
    if gx_home is not None:

        def files(path: Path) -> dict[str, str]:
            return {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(path)}

        defaults.stores[defaults.validation_results_store_name]["store_backend"] = files(gx_home / "validations")
        defaults.stores[defaults.expectations_store_name]["store_backend"] = files(gx_home / "expectations")
        sites[SITE_NAME] = {
            "class_name": "SiteBuilder",
            "show_how_to_buttons": False,
            "store_backend": files(data_docs_index(gx_home).parent),
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        }
    return DataContextConfig(
        store_backend_defaults=defaults,
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False),
        data_docs_sites=sites,
    )


@functools.lru_cache(maxsize=4)
def gx_context(url: str, gx_home: Path | None = None) -> tuple["AbstractDataContext", Any]:
    """One GX context and Postgres data source per process, warehouse and GX folder."""
    disable_telemetry()
    import great_expectations as gx

    import expectations.custom  # noqa: F401  (the gate's own expectation classes must be registered to render)

    logging.getLogger("great_expectations").setLevel(logging.WARNING)  # it logs every temp folder at INFO
    context = gx.get_context(mode="ephemeral", project_config=_project_config(gx_home))
    context.enable_analytics(False)  # besides GX_ANALYTICS_ENABLED=False: a bank's pipeline never calls out
    datasource = context.data_sources.add_or_update_postgres(name="warehouse", connection_string=sqlalchemy_url(url))
    return context, datasource


def build_data_docs(url: str, gx_home: Path) -> Path:
    """Render the stored validation results into the static site, offline-safe; return its index page.

    Only results without a page yet are rendered (all of them on a new site): re-rendering every result of a
    3-year history took ~10 s a day and grew with each run. The index pages list every result."""
    from warning_models.data_docs import localize_assets, write_plain_index

    context, _ = gx_context(url, gx_home)
    if not data_docs_index(gx_home).exists():
        context.build_data_docs(site_names=[SITE_NAME])
    else:
        store = context.validation_results_store
        pages = gx_home / "data_docs" / "validations"
        unrendered = [
            key for key in store.list_keys()
            if not (pages / store.store_backend._convert_key_to_filepath(key.to_tuple())).with_suffix(".html").exists()
        ]
        if unrendered:
            context.build_data_docs(site_names=[SITE_NAME], resource_identifiers=unrendered)
    site = data_docs_index(gx_home).parent
    localize_assets(site)
    write_plain_index(site, gx_home / "validations")
    return data_docs_index(gx_home)
