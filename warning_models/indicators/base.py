"""What every indicator returns: the model run, one value per entity, the alerts; plus shared helpers.

An indicator is a function ``compute(conn, as_of, config=None) -> IndicatorResult`` that reads the dbt marts as
they were knowable on ``as_of`` and never looks past it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import io
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum, StrEnum
from typing import Any, Protocol, TypeVar

import numpy as np
import pandas as pd
import psycopg2.extensions

from warning_models.errors import ConfigError


class Domain(StrEnum):
    """The risk domain an indicator watches (``warning.model_runs.domain``)."""

    CREDIT = "credit"
    MARKET = "market"
    MACRO = "macro"
    ACCESS = "access"


class Severity(StrEnum):
    """How urgent an alert is (``warning.alerts.severity``)."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class EntityType(StrEnum):
    """What an indicator value is about (``warning.indicator_values.entity_type``)."""

    LOAN = "loan"
    SEGMENT = "segment"
    PORTFOLIO = "portfolio"
    MODEL = "model"
    MARKET = "market"
    ECONOMY = "economy"
    USER = "user"


@dataclass(frozen=True)
class ModelRun:
    """One fit of a model for an as-of date (a row of ``warning.model_runs``)."""

    indicator: str
    domain: Domain
    as_of_date: dt.date
    model_class: str
    training_start: dt.date | None
    training_end: dt.date | None
    n_obs: int
    params: dict[str, Any]
    fit_stats: dict[str, Any]
    data_hash: str

    @property
    def model_run_id(self) -> str:
        return f"{self.indicator}:{self.as_of_date.isoformat()}"


@dataclass(frozen=True)
class IndicatorValue:
    """The indicator's value for one entity on the as-of date."""

    entity_type: EntityType
    entity_id: str
    value: float
    threshold: float | None


@dataclass(frozen=True)
class Alert:
    """An indicator value that crossed its threshold, with a sentence saying why."""

    entity_type: EntityType
    entity_id: str
    value: float
    threshold: float
    severity: Severity
    explanation: str
    kind: str | None = None  # the alert's own indicator name when a model raises several kinds (default: the run's)


@dataclass(frozen=True)
class TableRows:
    """Rows for one of the model's own warning tables (``schema.table``), which must reference the model run
    (``on delete cascade``): republishing the run replaces them. Rows without a ``model_run_id`` column get
    the run's."""

    table: str
    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]


@dataclass(frozen=True)
class IndicatorResult:
    """Everything an indicator produced for one as-of date; ``publish`` writes it."""

    run: ModelRun
    values: list[IndicatorValue] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    tables: list[TableRows] = field(default_factory=list)

    def value_of(self, entity_id: str) -> float | None:
        """The value for one entity, or None when the entity was not scored."""
        return next((v.value for v in self.values if v.entity_id == entity_id), None)

    def alert_for(self, entity_id: str, kind: str | None = None) -> Alert | None:
        """The entity's alert (of ``kind``, when given: an alert without its own kind is the run's indicator)."""
        return next(
            (
                a for a in self.alerts
                if a.entity_id == entity_id and (kind is None or (a.kind or self.run.indicator) == kind)
            ),
            None,
        )

    def table(self, name: str) -> TableRows | None:
        return next((t for t in self.tables if t.table == name), None)


class Compute(Protocol):
    def __call__(
        self, conn: psycopg2.extensions.connection, as_of: dt.date, config: Any = None
    ) -> IndicatorResult: ...


# --------------------------------------------------------------------------------------------- config helpers

C = TypeVar("C")


def config_from_env(cls: type[C], prefix: str, environ: Mapping[str, str] | None = None) -> C:
    """Build the frozen config ``cls`` from its defaults, overridden by ``EWS_<PREFIX>_<FIELD>`` variables.

    Only scalar fields (int, float, bool, str) can be overridden; a malformed value raises ConfigError.
    """
    env = os.environ if environ is None else environ
    changes: dict[str, Any] = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        name = f"EWS_{prefix}_{f.name}".upper()
        raw = env.get(name)
        if raw is None or raw == "":
            continue
        default = f.default
        try:
            if isinstance(default, bool):
                if raw.strip().lower() not in {"1", "0", "true", "false", "yes", "no"}:
                    raise ValueError(raw)
                changes[f.name] = raw.strip().lower() in {"1", "true", "yes"}
            elif isinstance(default, (int, float, str)):
                changes[f.name] = type(default)(raw)
            else:
                raise ConfigError(f"{name}: field {f.name} cannot be set from the environment")
        except ValueError as exc:
            raise ConfigError(f"{name} must be a {type(default).__name__}, got {raw!r}") from exc
    try:
        return cls(**changes)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"invalid {cls.__name__} from EWS_{prefix}_*: {exc}") from exc


def severity_for(value: float, medium: float, high: float, *, strict_medium: bool = False) -> Severity | None:
    """MEDIUM at ``value >= medium`` (``>`` when ``strict_medium``), HIGH at ``value >= high``, else None."""
    if value >= high:
        return Severity.HIGH
    if value > medium or (not strict_medium and value == medium):
        return Severity.MEDIUM
    return None


# --------------------------------------------------------------------------------------------- data helpers


def previous_run_params(conn: psycopg2.extensions.connection, indicator: str, as_of: dt.date) -> dict[str, Any] | None:
    """The params of the indicator's latest run before ``as_of`` (the model in force the day before), if any."""
    with conn.cursor() as cur:
        cur.execute(
            "select params from warning.model_runs where indicator = %s and as_of_date < %s "
            "order by as_of_date desc limit 1",
            (indicator, as_of),
        )
        row = cur.fetchone()
    return None if row is None else row[0]


def read_frame(conn: psycopg2.extensions.connection, sql: str, params: tuple[Any, ...]) -> pd.DataFrame:
    """Run a parameterised query and return its rows as a DataFrame (columns named by the query)."""
    with conn.cursor() as cur:
        cur.execute(sql, params)
        columns = [d.name for d in cur.description]
        rows = cur.fetchall()
    return pd.DataFrame.from_records(rows, columns=columns)


def read_frame_by_copy(
    conn: psycopg2.extensions.connection,
    sql: str,
    params: tuple[Any, ...],
    dtypes: Mapping[str, str],
    bool_columns: tuple[str, ...] = (),
) -> pd.DataFrame:
    """Run a parameterised query through COPY ... TO STDOUT and parse it with pandas' C CSV reader.

    Several times faster than ``fetchall`` for hundreds of thousands of rows. The query's columns must be listed
    in ``dtypes`` in select order; the values are bound by the driver (``mogrify``), never formatted in.
    """
    with conn.cursor() as cur:
        query = cur.mogrify(sql, params).decode(psycopg2.extensions.encodings.get(conn.encoding, "utf-8"))
        buffer = io.BytesIO()
        cur.copy_expert(f"copy ({query}) to stdout with (format csv)", buffer)
    buffer.seek(0)
    names = list(dtypes)
    if buffer.getbuffer().nbytes == 0:
        return pd.DataFrame({name: pd.Series(dtype=dtypes[name]) for name in names})
    return pd.read_csv(
        buffer,
        header=None,
        names=names,
        dtype={k: v for k, v in dtypes.items() if k not in bool_columns},
        true_values=["t"],
        false_values=["f"],
        keep_default_na=False,
        na_values=[""],
    )


def data_hash(frame: pd.DataFrame) -> str:
    """sha256 of a DataFrame's content: column names, then each column's values in row order.

    Numbers are hashed as float64 / int64 bytes, everything else as text, so the hash does not depend on the
    pandas version's internal hashing.
    """
    digest = hashlib.sha256()
    digest.update(f"{len(frame)}".encode())
    for name in frame.columns:
        column = frame[name]
        digest.update(b"\x1e" + str(name).encode())
        if pd.api.types.is_bool_dtype(column.dtype):
            digest.update(np.ascontiguousarray(column.to_numpy(dtype=np.int8, na_value=-1)).tobytes())
        elif pd.api.types.is_integer_dtype(column.dtype):
            digest.update(np.ascontiguousarray(column.to_numpy(dtype=np.int64)).tobytes())
        elif pd.api.types.is_float_dtype(column.dtype):
            digest.update(np.ascontiguousarray(column.to_numpy(dtype=np.float64, na_value=np.nan)).tobytes())
        else:
            digest.update("\x1f".join("" if v is None else str(v) for v in column.tolist()).encode())
    return digest.hexdigest()


def jsonable(value: Any) -> Any:
    """``value`` with numpy scalars, dates and non-finite floats turned into what JSONB accepts."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray, pd.Series)):
        return [jsonable(v) for v in list(value)]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    return value


def fmt(value: float, digits: int = 2) -> str:
    """A number for an explanation sentence: thousands separators, ``digits`` decimals, integers bare."""
    if not math.isfinite(value):
        return str(value)
    if float(value).is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    return f"{value:,.{digits}f}"
