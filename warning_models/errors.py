"""Every exception ews raises on purpose. Each carries the context a data engineer needs to act on it."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any


class EwsError(Exception):
    """Base class of every error ews raises on purpose."""


class ConfigError(EwsError):
    """Raised when a setting read from the environment is missing or malformed."""


class WarehouseError(EwsError):
    """Raised when the warehouse cannot be reached, started or migrated."""


class MigrationError(WarehouseError):
    """Raised when a migration file changed after it was applied, or fails to apply."""

    def __init__(self, version: str, reason: str) -> None:
        super().__init__(f"migration {version}: {reason}")
        self.version = version
        self.reason = reason


class Rule(str, Enum):
    """The landing-contract rule a rejected file broke."""

    FILE_MISSING = "file_missing"
    ENCODING = "encoding_utf8"
    EMPTY_FILE = "empty_file"
    HEADER = "header_columns"
    COLUMN_COUNT = "column_count"
    TYPE = "column_type"
    NOT_NULL = "not_null"
    CSV_SYNTAX = "csv_syntax"
    CONTROL_FILE = "control_file"
    KEY_UNIQUE = "key_unique"  # a key repeated inside one file (loan files; the gate checks landing files)


@dataclass
class LandingError(EwsError):
    """Raised when a landing file breaks the contract before it can be loaded.

    It names the file, the 1-based line of the file (1 is the header) and the rule.
    """

    path: Path
    line: int | None
    rule: Rule
    detail: str
    source: str = ""
    business_date: str = ""

    def __post_init__(self) -> None:
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.path}" + (f", line {self.line}" if self.line is not None else "")
        return f"{where}: rule {self.rule.value}: {self.detail}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": str(self.path),
            "line": self.line,
            "rule": self.rule.value,
            "detail": self.detail,
            "source": self.source,
            "business_date": self.business_date,
        }


@dataclass
class GateFailure(EwsError):
    """Raised (or returned) when a loaded batch fails its expectation suite and is quarantined."""

    batch_id: str
    suite: str
    failures: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(str(self))

    def __str__(self) -> str:
        rules = ", ".join(f["expectation"] + (f"({f['column']})" if f.get("column") else "") for f in self.failures)
        return f"batch {self.batch_id} failed suite {self.suite}: {rules}"


class UnknownSourceError(EwsError):
    """Raised when a source name is not part of the landing contract."""


class BatchNotFoundError(EwsError):
    """Raised when a batch id or quarantine id does not exist."""


class TransformError(EwsError):
    """Raised when dbt fails; carries the failing nodes."""

    def __init__(self, command: str, failures: list[str]) -> None:
        super().__init__(f"dbt {command} failed: {'; '.join(failures) or 'see dbt log'}")
        self.command = command
        self.failures = failures


class InsufficientHistoryError(EwsError):
    """Raised when an indicator has too little history to be fitted for an as-of date."""

    def __init__(self, indicator: str, needed: int, available: int) -> None:
        super().__init__(f"{indicator}: needs {needed} observations, has {available}")
        self.indicator = indicator
        self.needed = needed
        self.available = available


class TruthFileError(EwsError):
    """Raised when the ground-truth file needed by `ews evaluate` is missing or malformed."""


class QuarantineError(EwsError):
    """Raised when an action on a quarantined batch is not possible (wrong state, unloadable file, no note)."""

    def __init__(self, batch_id: str, reason: str) -> None:
        super().__init__(f"quarantined batch {batch_id} {reason}")
        self.batch_id = batch_id
        self.reason = reason


class GateError(EwsError):
    """Raised when an expectation could not be evaluated (a SQL error): the batches are left undecided."""

    def __init__(self, expectation: str, check: str, message: str) -> None:
        super().__init__(f"the gate's check {check} ({expectation}) could not run, batches left undecided: {message}")
        self.expectation = expectation
        self.check = check
        self.message = message


@dataclass
class PgLogError(EwsError):
    """Raised when a PostgreSQL csvlog cannot be turned into access events: the file, the 1-based line (None
    for the whole file) and why."""

    path: Path
    line: int | None
    reason: str

    def __post_init__(self) -> None:
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.path}" + (f", line {self.line}" if self.line is not None else "")
        return f"{where}: {self.reason}"


class AlertActionError(EwsError):
    """Raised when an action on an alert case cannot be taken: the case (as named) and why."""

    def __init__(self, case_ref: str, reason: str) -> None:
        super().__init__(f"alert case {case_ref!r}: {reason}")
        self.case_ref = case_ref
        self.reason = reason


class NotificationError(EwsError):
    """Raised when a notification channel could not deliver: the channel and what went wrong. Nothing is recorded
    as sent, so the next run tries again."""

    def __init__(self, channel: str, reason: str) -> None:
        super().__init__(f"notification by {channel} failed: {reason}")
        self.channel = channel
        self.reason = reason
