"""The keys behind the pseudonyms dbt computes (HMAC-SHA256 of the national id), and how they reach the warehouse.

EWS_PSEUDONYM_KEY   the bank's own key: ``person_key`` in the marts (dim_borrowers). Required to build the models.
EWS_CONSORTIUM_KEY  the key the institutions of a consortium share: ``consortium_borrower_key`` of the shared
                    marts. Unset: nothing is shared.

A key never appears in SQL text (compiled models, dbt's debug log, the server's statement log): it travels as a
session setting in libpq's ``PGOPTIONS`` of the dbt process (``-c ews.pseudonym_key=...``), and the models read
it with ``current_setting``. Each key needs at least ``MIN_KEY_CHARS`` characters: a short key can be guessed,
and with it every pseudonym recomputed from a list of national ids.

The embedded warehouse (no EWS_DATABASE_URL) is a local one: unset keys are generated once into
``$EWS_HOME/keys.env`` (readable by its owner only) and read from there, so the pseudonyms stay stable across runs.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping, MutableMapping
from pathlib import Path

from warning_models.config import Settings
from warning_models.errors import ConfigError

MIN_KEY_CHARS = 32
# environment variable -> the server setting the models read
KEY_SETTINGS: dict[str, str] = {
    "EWS_PSEUDONYM_KEY": "ews.pseudonym_key",
    "EWS_CONSORTIUM_KEY": "ews.consortium_key",
}
REQUIRED_KEYS = ("EWS_PSEUDONYM_KEY",)
KEYS_FILE = "keys.env"


def _option_value(value: str) -> str:
    """A value as libpq's ``options`` wants it: backslashes and spaces escaped with a backslash."""
    return value.replace("\\", "\\\\").replace(" ", "\\ ")


def key_options(environ: Mapping[str, str] | None = None) -> str:
    """``-c ews.pseudonym_key=... -c ews.consortium_key=...`` for the keys that are set; checks every key."""
    env = os.environ if environ is None else environ
    options = []
    for variable, setting in KEY_SETTINGS.items():
        value = env.get(variable, "")
        if not value:
            if variable in REQUIRED_KEYS:
                raise ConfigError(
                    f"{variable} is not set: the marts carry keyed pseudonyms of personal data and need the key "
                    f"(at least {MIN_KEY_CHARS} characters, kept in the environment or a secrets backend)"
                )
            continue
        if len(value) < MIN_KEY_CHARS:
            raise ConfigError(
                f"{variable} must hold at least {MIN_KEY_CHARS} characters (it has {len(value)}): a short key lets "
                "anyone who guesses it recompute every pseudonym"
            )
        options.append(f"-c {setting}={_option_value(value)}")
    return " ".join(options)


def _options_without_keys(options: str) -> str:
    """PGOPTIONS without earlier key settings (so adding them again does not pile them up)."""
    parts, kept, i = options.split(), [], 0
    prefixes = tuple(f"{setting}=" for setting in KEY_SETTINGS.values())
    while i < len(parts):
        if parts[i] == "-c" and i + 1 < len(parts) and parts[i + 1].startswith(prefixes):
            i += 2
            continue
        kept.append(parts[i])
        i += 1
    return " ".join(kept)


def pgoptions_with_keys(environ: Mapping[str, str] | None = None) -> str:
    """The process's PGOPTIONS with the key settings added (what the dbt process connects with)."""
    env = os.environ if environ is None else environ
    return " ".join(part for part in (_options_without_keys(env.get("PGOPTIONS", "")), key_options(env)) if part)


def _read_keys_file(path: Path) -> dict[str, str]:
    keys: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        name, sep, value = line.partition("=")
        if sep and name.strip() in KEY_SETTINGS:
            keys[name.strip()] = value.strip()
    return keys


def ensure_local_keys(settings: Settings, environ: MutableMapping[str, str] | None = None) -> Path | None:
    """Fill unset keys from ``$EWS_HOME/keys.env``; for the embedded warehouse, create that file first if needed.

    Returns the file when it was used. A key set in the environment always wins. A configured warehouse
    (EWS_DATABASE_URL) never gets generated keys: its keys must be the same on every machine that runs a job.
    """
    env = os.environ if environ is None else environ
    missing = [v for v in KEY_SETTINGS if not env.get(v)]
    if not missing:
        return None
    path = settings.home / KEYS_FILE
    if not path.is_file():
        if settings.database_url is not None:
            return None
        settings.home.mkdir(parents=True, exist_ok=True)
        content = "".join(f"{variable}={secrets.token_urlsafe(36)}\n" for variable in KEY_SETTINGS)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(content)
    stored = _read_keys_file(path)
    for variable in missing:
        if stored.get(variable):
            env[variable] = stored[variable]
    return path
