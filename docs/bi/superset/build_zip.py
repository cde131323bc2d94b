"""Build the importable Superset bundle ews_risk_dashboard.zip from the folder ews_risk_dashboard/ beside this file.

The zip holds the folder's files under one root folder, as Superset's export does (Superset's importer drops the
root folder's name). It is reproducible byte for byte: entries sorted by path, a fixed timestamp and mode, stored
uncompressed (no dependence on the zlib build). tests/test_bi_quickstart.py checks the zip in the repository equals
what build() makes of the folder.

    .venv/bin/python docs/bi/superset/build_zip.py            # rewrite the zip after editing a YAML file
    .venv/bin/python docs/bi/superset/build_zip.py --warehouse db.bank.internal:5432/ews --out /tmp/ews.zip
                                                             # a copy for another warehouse (host:port/database)

Superset connects to the warehouse while it imports the bundle, so the URL in databases/ews_warehouse.yaml must reach
it; --warehouse writes that copy without touching the folder. The password stays masked either way.
"""

from __future__ import annotations

import argparse
import io
import re
import sys
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
FOLDER = HERE / "ews_risk_dashboard"
ZIP_PATH = HERE / "ews_risk_dashboard.zip"
DATABASE_FILE = "databases/ews_warehouse.yaml"
DEFAULT_WAREHOUSE = "@warehouse:5432/ews"
FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can carry


def entries(folder: Path = FOLDER, warehouse: str | None = None) -> list[tuple[str, bytes]]:
    """(name in the zip, content) of every file under `folder`, sorted; names start with the folder's name.
    `warehouse` (host:port/database) replaces the warehouse of the database's URL."""
    out = []
    for relative in sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()):
        content = (folder / relative).read_bytes()
        if warehouse is not None and relative == DATABASE_FILE:
            if not re.fullmatch(r"[A-Za-z0-9.\-]+:\d{1,5}/[A-Za-z0-9_\-]+", warehouse):
                raise ValueError(f"--warehouse must be host:port/database, not {warehouse!r}")
            text = content.decode()
            if DEFAULT_WAREHOUSE not in text:
                raise ValueError(f"{DATABASE_FILE} does not name {DEFAULT_WAREHOUSE}")
            content = text.replace(DEFAULT_WAREHOUSE, f"@{warehouse}").encode()
        out.append((f"{folder.name}/{relative}", content))
    return out


def build(folder: Path = FOLDER, warehouse: str | None = None) -> bytes:
    """The zip's bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as bundle:
        for name, content in entries(folder, warehouse):
            info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
            info.compress_type = zipfile.ZIP_STORED
            info.create_system = 3  # unix, so the mode below is read
            info.external_attr = 0o100644 << 16
            bundle.writestr(info, content)
    return buffer.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--warehouse", help="host:port/database of the warehouse, instead of warehouse:5432/ews")
    parser.add_argument("--out", type=Path, help=f"where to write the zip (default: {ZIP_PATH.name} beside this file)")
    args = parser.parse_args(argv)
    if args.warehouse and not args.out:
        parser.error("--warehouse writes a copy: give --out too (the zip in the repository stays as the folder)")
    out = args.out or ZIP_PATH
    data = build(warehouse=args.warehouse)
    out.write_bytes(data)
    print(f"{out} ({len(entries())} files, {len(data)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
