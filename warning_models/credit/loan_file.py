"""A PD scorecard trained and validated on a user's loan-level file with outcomes (docs/credit_loan_file.md).

``read_loan_file`` checks the file against its contract and fails on the first broken rule with the file, the line
(1 = the header) and the rule (``LandingError``). ``fit_loan_file`` fits the scorecard (``fit_scorecard``) on a
development sample and validates it on a holdout: out of time when the file has ``observation_date`` (the latest
loans by date), else a seeded stratified random split. One 30 % holdout of a few thousand loans is noisy, so the
holdout AUC is also given over repeated seeded stratified splits (mean and sd). ``store`` writes the fit as a model
run of ``credit_pd_file`` with its validation tables through ``publish``: the same file again replaces its rows.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import hashlib
import io
import math
import re
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import psycopg2.extensions

from warning_models.credit.monitoring import (
    BIN_COLUMNS,
    CALIBRATION_COLUMNS,
    FEATURE_COLUMNS,
    VALIDATION_COLUMNS,
    SampleReport,
    Stability,
    bin_rows,
    calibration_rows,
    feature_rows,
    report_as_dict,
    sample_report,
    score_bands,
    stability,
    validation_rows,
)
from warning_models.credit.scorecard import Scorecard, ScorecardConfig, fit_scorecard
from warning_models.credit.validation import auc
from warning_models.errors import ConfigError, InsufficientHistoryError, LandingError, Rule
from warning_models.indicators.base import Domain, IndicatorResult, ModelRun, TableRows, data_hash
from warning_models.publish import PublishCounts, publish

INDICATOR = "credit_pd_file"
DOMAIN = Domain.CREDIT
MODEL_CLASS = "statsmodels.discrete.discrete_model.Logit on weight-of-evidence bins"
SOURCE = "loan_file"  # LandingError.source of a rejected loan file

LOAN_ID = "loan_id"
DEFAULT_FLAG = "default_flag"
OBSERVATION_DATE = "observation_date"
REQUIRED = (LOAN_ID, DEFAULT_FLAG)
MISSING_CATEGORY = "(missing)"  # the category of an empty value in a categorical feature

_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class LoanFileConfig:
    """How a loan file is split, fitted and validated; ``EWS_LOAN_FILE_<FIELD>`` overrides the scalar fields."""

    holdout_share: float = 0.3  # of the loans: the latest by observation_date, else a stratified random draw
    seed: int = 42  # of the random split, and the base of the repeated splits
    repeated_splits: int = 20  # seeded stratified random splits for the holdout AUC's mean and sd (0: none)
    calibration_bands: int = 10
    min_defaults: int = 20  # in the development sample, and as many non-defaults
    max_categories: int = 50  # a text column with more distinct values is left out (an identifier, free text)
    scorecard: ScorecardConfig = field(default_factory=ScorecardConfig)

    def __post_init__(self) -> None:
        if not 0.05 <= self.holdout_share <= 0.5:
            raise ConfigError(f"holdout_share must be within 0.05 .. 0.5, got {self.holdout_share}")
        if self.repeated_splits < 0 or self.seed < 0:
            raise ConfigError(f"repeated_splits and seed must be >= 0, got {self.repeated_splits} and {self.seed}")
        if self.calibration_bands < 3:
            raise ConfigError(f"calibration_bands must be >= 3, got {self.calibration_bands}")
        if self.min_defaults < 1 or self.max_categories < 2:
            raise ConfigError("min_defaults must be >= 1 and max_categories >= 2")


# ------------------------------------------------------------------------------------------------ reading


@dataclass(frozen=True)
class LoanFile:
    """A loan file that passed its contract: one row per loan, the features typed, the outcome as booleans."""

    path: Path
    sha256: str
    loan_ids: np.ndarray  # str
    lines: np.ndarray  # each loan's line in the file
    y: np.ndarray  # bool: defaulted within the outcome window
    dates: np.ndarray | None  # datetime64[D] observation dates, None without the column
    frame: pd.DataFrame  # the candidate features: float64 (numeric) or str (categorical, MISSING_CATEGORY)
    numeric: list[str]
    categorical: list[str]
    ignored: dict[str, str]  # column -> why it is not a candidate feature
    notes: dict[str, str] = field(default_factory=dict)  # column -> a typing surprise worth reading

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def n(self) -> int:
        return len(self.y)

    @property
    def defaults(self) -> int:
        return int(self.y.sum())


def read_loan_file(path: Path, config: LoanFileConfig = LoanFileConfig()) -> LoanFile:
    """Check ``path`` against the loan-file contract and type its columns; LandingError on the first broken rule."""
    path = Path(path)

    def fail(line: int | None, rule: Rule, detail: str) -> LandingError:
        return LandingError(path, line, rule, detail, source=SOURCE)

    if not path.is_file():
        raise fail(None, Rule.FILE_MISSING, "no such file")
    content = path.read_bytes()
    if not content.strip():
        raise fail(None, Rule.EMPTY_FILE, "the file is empty (not even a header)")
    try:
        text = content.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        line = content[: exc.start].count(b"\n") + 1
        raise fail(line, Rule.ENCODING, f"byte {content[exc.start]:#04x} at offset {exc.start} is not UTF-8") from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [h.strip() for h in next(reader)]
    except (StopIteration, csv.Error) as exc:
        raise fail(1, Rule.HEADER, f"no readable header: {exc}") from None
    _check_header(header, fail)
    at = {name: i for i, name in enumerate(header)}
    id_i, flag_i, date_i = at[LOAN_ID], at[DEFAULT_FLAG], at.get(OBSERVATION_DATE)
    seen: dict[str, int] = {}
    rows: list[list[str]] = []
    lines: list[int] = []
    try:
        for row in reader:
            line = reader.line_num
            if not row or (len(row) == 1 and not row[0].strip()):
                continue  # a blank line
            if len(row) != len(header):
                raise fail(line, Rule.COLUMN_COUNT, f"{len(row)} fields, the header has {len(header)}")
            row = [v.strip() for v in row]
            loan_id = row[id_i]
            if loan_id == "":
                raise fail(line, Rule.NOT_NULL, f"column {LOAN_ID} is empty")
            if loan_id in seen:
                raise fail(line, Rule.KEY_UNIQUE, f"{LOAN_ID} {loan_id!r} is also on line {seen[loan_id]}")
            seen[loan_id] = line
            flag = row[flag_i]
            if flag == "":
                raise fail(line, Rule.NOT_NULL, f"column {DEFAULT_FLAG} is empty")
            if flag not in ("0", "1"):
                raise fail(line, Rule.TYPE, f"column {DEFAULT_FLAG}: {flag!r} is not 0 or 1")
            if date_i is not None:
                _check_date(row[date_i], line, fail)
            rows.append(row)
            lines.append(line)
    except csv.Error as exc:
        raise fail(reader.line_num, Rule.CSV_SYNTAX, str(exc)) from None
    if not rows:
        raise fail(1, Rule.EMPTY_FILE, "a header but no loans")
    columns = list(zip(*rows))
    features, numeric, categorical, ignored, notes = _type_features(header, columns, lines, config.max_categories)
    if not numeric and not categorical:
        raise fail(1, Rule.HEADER, "no usable feature column: " + "; ".join(f"{k} {v}" for k, v in ignored.items()))
    dates = None
    if date_i is not None:
        dates = np.array(columns[date_i], dtype="datetime64[D]")
    return LoanFile(
        path=path,
        sha256=hashlib.sha256(content).hexdigest(),
        loan_ids=np.array(columns[id_i], dtype=object),
        lines=np.array(lines, dtype=np.int64),
        y=np.array([v == "1" for v in columns[flag_i]], dtype=bool),
        dates=dates,
        frame=features,
        numeric=numeric,
        categorical=categorical,
        ignored=ignored,
        notes=notes,
    )


def _check_header(header: list[str], fail: Any) -> None:
    if any(name == "" for name in header):
        raise fail(1, Rule.HEADER, f"column {header.index('') + 1} has no name")
    duplicated = sorted({name for name in header if header.count(name) > 1})
    if duplicated:
        raise fail(1, Rule.HEADER, f"duplicate column names {duplicated}")
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        raise fail(1, Rule.HEADER, f"missing required column(s) {missing}; the header is {header}")
    if not [name for name in header if name not in (*REQUIRED, OBSERVATION_DATE)]:
        raise fail(1, Rule.HEADER, f"no feature columns besides {[*REQUIRED, OBSERVATION_DATE]}")


def _check_date(value: str, line: int, fail: Any) -> None:
    if value == "":
        raise fail(line, Rule.NOT_NULL, f"column {OBSERVATION_DATE} is empty")
    try:
        if not _ISO_DATE.match(value):
            raise ValueError(value)
        dt.date.fromisoformat(value)
    except ValueError:
        raise fail(line, Rule.TYPE, f"column {OBSERVATION_DATE}: {value!r} is not a date (YYYY-MM-DD)") from None


def _type_features(
    header: list[str], columns: list[tuple[str, ...]], lines: list[int], max_categories: int
) -> tuple[pd.DataFrame, list[str], list[str], dict[str, str], dict[str, str]]:
    """Numeric when every non-empty value is a number, else categorical; empty is missing."""
    data: dict[str, Any] = {}
    numeric: list[str] = []
    categorical: list[str] = []
    ignored: dict[str, str] = {}
    notes: dict[str, str] = {}
    for name, values in zip(header, columns):
        if name in (*REQUIRED, OBSERVATION_DATE):
            continue
        present = [v for v in values if v != ""]
        is_number = [bool(_NUMBER.match(v)) for v in values]
        if not present:
            ignored[name] = "every value is empty"
            continue
        if all(n or v == "" for n, v in zip(is_number, values)):
            data[name] = np.array([float(v) if v != "" else np.nan for v in values], dtype=np.float64)
            numeric.append(name)
            continue
        if sum(is_number) >= 0.9 * len(present):  # a numeric column spoilt by a placeholder such as NA
            k = next(i for i, (n, v) in enumerate(zip(is_number, values)) if not n and v != "")
            notes[name] = (f"read as text: {values[k]!r} on line {lines[k]} is not a number "
                           "(leave a missing value empty)")
        if len(set(present)) > max_categories:
            ignored[name] = f"text with {len(set(present))} distinct values (more than {max_categories}): bin it first"
        else:
            data[name] = np.array([v if v != "" else MISSING_CATEGORY for v in values], dtype=object)
            categorical.append(name)
    return pd.DataFrame(data), numeric, categorical, ignored, notes


# ------------------------------------------------------------------------------------------------ splitting


class SplitKind(StrEnum):
    """How the holdout was drawn."""

    OUT_OF_TIME = "out_of_time"  # the latest loans by observation_date
    STRATIFIED_RANDOM = "stratified_random"  # a seeded draw keeping the default rate of each sample


@dataclass(frozen=True)
class Split:
    kind: SplitKind
    holdout: np.ndarray  # bool per loan
    note: str


def stratified_holdout(y: np.ndarray, share: float, seed: int | list[int]) -> np.ndarray:
    """A seeded random holdout of ``share`` of the defaults and ``share`` of the non-defaults."""
    rng = np.random.default_rng(seed)
    holdout = np.zeros(len(y), dtype=bool)
    for cls in (True, False):
        rows = np.flatnonzero(y == cls)
        rng.shuffle(rows)
        holdout[rows[: int(round(share * len(rows)))]] = True
    return holdout


def split_loans(loans: LoanFile, config: LoanFileConfig) -> Split:
    """Out of time when the file has dates (whole dates: loans of one date stay together), else stratified."""
    share = config.holdout_share
    if loans.dates is not None:
        ordered = np.sort(loans.dates)
        cut = ordered[min(int(math.floor((1 - share) * loans.n)), loans.n - 1)]
        holdout = loans.dates >= cut
        if holdout.all():  # the cut fell on the first date: the holdout starts at the next one
            holdout = loans.dates > cut
        if holdout.any():
            first, last = str(loans.dates[holdout].min()), str(loans.dates.max())
            return Split(
                SplitKind.OUT_OF_TIME, holdout,
                f"out of time: developed on loans observed {loans.dates.min()} .. {loans.dates[~holdout].max()}, "
                f"validated on the {int(holdout.sum()):,} loans observed {first} .. {last}",
            )
        note = f"every loan has the same {OBSERVATION_DATE}: no out-of-time holdout; "
    else:
        note = ""
    holdout = stratified_holdout(loans.y, share, config.seed)
    return Split(
        SplitKind.STRATIFIED_RANDOM, holdout,
        note + f"stratified random {1 - share:.0%}/{share:.0%} split (seed {config.seed})",
    )


# ------------------------------------------------------------------------------------------------ fitting


@dataclass(frozen=True)
class RepeatedAuc:
    """Holdout AUC over repeated seeded stratified splits: the sampling noise of one holdout's AUC."""

    seed: int
    share: float
    aucs: tuple[float, ...]

    @property
    def mean(self) -> float:
        return float(np.mean(self.aucs))

    @property
    def sd(self) -> float:
        return float(np.std(self.aucs, ddof=1)) if len(self.aucs) > 1 else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {"splits": len(self.aucs), "seed": self.seed, "holdout_share": self.share, "mean": self.mean,
                "sd": self.sd, "min": min(self.aucs), "max": max(self.aucs), "aucs": list(self.aucs)}


def _check_classes(loans: LoanFile, y_dev: np.ndarray, y_hold: np.ndarray, config: LoanFileConfig) -> None:
    for what, count in (("defaults", int(y_dev.sum())), ("non-defaults", int((~y_dev).sum()))):
        if count < config.min_defaults:
            raise InsufficientHistoryError(f"{INDICATOR} ({loans.name}: {what} in the development sample)",
                                           config.min_defaults, count)
    for what, count in (("defaults", int(y_hold.sum())), ("non-defaults", int((~y_hold).sum()))):
        if count == 0:
            raise InsufficientHistoryError(f"{INDICATOR} ({loans.name}: {what} in the holdout)", 1, 0)


def _fit(loans: LoanFile, holdout: np.ndarray, config: LoanFileConfig) -> Scorecard:
    development = ~holdout
    return fit_scorecard(
        loans.frame[development].reset_index(drop=True), loans.y[development], loans.numeric, loans.categorical,
        config.scorecard,
    )


def repeated_holdout_auc(loans: LoanFile, config: LoanFileConfig) -> RepeatedAuc | None:
    """Refit on ``config.repeated_splits`` stratified random splits (seeds ``[seed, k]``), score each holdout."""
    if config.repeated_splits == 0:
        return None
    aucs = []
    for k in range(config.repeated_splits):
        holdout = stratified_holdout(loans.y, config.holdout_share, [config.seed, k])
        _check_classes(loans, loans.y[~holdout], loans.y[holdout], config)
        value = auc(loans.y[holdout], _fit(loans, holdout, config).predict(loans.frame[holdout]))
        aucs.append(float("nan") if value is None else value)
    return RepeatedAuc(config.seed, config.holdout_share, tuple(aucs))


@dataclass(frozen=True)
class FileModelRun(ModelRun):
    """A model run of a loan file: its id names the file, so each file's run is found (and replaced) by name."""

    file_name: str = ""

    @property
    def model_run_id(self) -> str:
        return f"{self.indicator}:{self.file_name}:{self.as_of_date.isoformat()}"


@dataclass(frozen=True)
class FileFit:
    """A scorecard fitted on a loan file's development sample, with its validation on the holdout."""

    loans: LoanFile
    split: Split
    scorecard: Scorecard
    train: SampleReport
    holdout: SampleReport
    stability: Stability  # the holdout against the development sample
    score_bands: dict[str, list[float]]
    repeated: RepeatedAuc | None
    config: LoanFileConfig
    as_of_date: dt.date

    @property
    def reports(self) -> list[SampleReport]:
        return [self.train, self.holdout]

    def run(self) -> FileModelRun:
        loans, dev = self.loans, ~self.split.holdout
        dates = loans.dates[dev] if loans.dates is not None else None
        return FileModelRun(
            indicator=INDICATOR,
            domain=DOMAIN,
            as_of_date=self.as_of_date,
            model_class=MODEL_CLASS,
            training_start=None if dates is None else pd.Timestamp(dates.min()).date(),
            training_end=None if dates is None else pd.Timestamp(dates.max()).date(),
            n_obs=int(dev.sum()),
            params={
                "file": loans.name,
                "file_sha256": loans.sha256,
                "loans": loans.n,
                "defaults": loans.defaults,
                "split": self.split.kind.value,
                "split_note": self.split.note,
                "holdout_share": self.config.holdout_share,
                "seed": self.config.seed,
                "numeric": loans.numeric,
                "categorical": loans.categorical,
                "ignored_columns": loans.ignored,
                "column_notes": loans.notes,
                "scorecard": self.scorecard.as_dict(),
                "score_bands": self.score_bands,
                "fit_reports": [report_as_dict(r) for r in self.reports],
                "repeated_holdout_auc": None if self.repeated is None else self.repeated.as_dict(),
            },
            fit_stats={
                **self.scorecard.fit_stats,
                "information_values": self.scorecard.information_values(),
                "holdout_auc": self.holdout.metrics["auc"],
                "score_psi_holdout": self.stability.score_psi,
            },
            data_hash=data_hash(loans.frame[dev].assign(**{DEFAULT_FLAG: loans.y[dev]})),
            file_name=loans.name,
        )

    def extra_holdout_metrics(self) -> dict[str, float | None]:
        """Holdout figures beyond ``sample_report``: the score's PSI and the repeated-split AUC."""
        extra: dict[str, float | None] = {"score_psi": self.stability.score_psi}
        if self.repeated is not None:
            extra |= {"auc_repeated_mean": self.repeated.mean, "auc_repeated_sd": self.repeated.sd,
                      "auc_repeated_splits": float(len(self.repeated.aucs))}
        return extra

    def result(self) -> IndicatorResult:
        """The model run and its validation tables, as ``publish`` writes them."""
        run = self.run()
        run_id = run.model_run_id
        validations = validation_rows(run_id, self.reports, {})
        validations += [(run_id, "holdout", metric, value) for metric, value in self.extra_holdout_metrics().items()]
        return IndicatorResult(run, tables=[
            TableRows("warning.model_validations", VALIDATION_COLUMNS, validations),
            TableRows("warning.calibration_bands", CALIBRATION_COLUMNS, calibration_rows(run_id, self.reports)),
            TableRows("warning.scorecard_features", FEATURE_COLUMNS,
                      feature_rows(run_id, self.scorecard, self.stability)),
            TableRows("warning.scorecard_bins", BIN_COLUMNS, bin_rows(run_id, self.scorecard, self.stability)),
        ])


def fit_loans(loans: LoanFile, config: LoanFileConfig = LoanFileConfig(), today: dt.date | None = None) -> FileFit:
    """Fit on the development sample, validate on the holdout, and repeat on seeded random splits."""
    split = split_loans(loans, config)
    dev, hold = ~split.holdout, split.holdout
    _check_classes(loans, loans.y[dev], loans.y[hold], config)
    scorecard = _fit(loans, hold, config)
    dev_pd = scorecard.predict(loans.frame[dev])
    hold_pd = scorecard.predict(loans.frame[hold])
    bands = score_bands(scorecard.points(dev_pd))
    as_of = pd.Timestamp(loans.dates.max()).date() if loans.dates is not None else (today or dt.date.today())
    return FileFit(
        loans=loans,
        split=split,
        scorecard=scorecard,
        train=sample_report("train", loans.y[dev], dev_pd, config.calibration_bands),
        holdout=sample_report("holdout", loans.y[hold], hold_pd, config.calibration_bands),
        stability=stability(scorecard, loans.frame[hold].reset_index(drop=True), bands),
        score_bands=bands,
        repeated=repeated_holdout_auc(loans, config),
        config=config,
        as_of_date=as_of,
    )


def fit_loan_file(path: Path, config: LoanFileConfig = LoanFileConfig(), today: dt.date | None = None) -> FileFit:
    """Read and check ``path``, then ``fit_loans``."""
    return fit_loans(read_loan_file(path, config), config, today)


# ------------------------------------------------------------------------------------------------ storing


@dataclass(frozen=True)
class StoreOutcome:
    model_run_id: str
    counts: PublishCounts
    replaced: list[str]  # runs of other files with the same as-of date, replaced (one credit_pd_file run per day)


def store(conn: psycopg2.extensions.connection, fit: FileFit) -> StoreOutcome:
    """Write the fit as a ``credit_pd_file`` model run with its tables; the same file again replaces its rows.

    ``warning.model_runs`` holds one run per indicator and as-of date, so a different file with the same as-of date
    replaces this one: ``replaced`` names the runs that went. No commit (``warehouse.connect`` commits).
    """
    result = fit.result()
    run_id = result.run.model_run_id
    with conn.cursor() as cur:
        cur.execute(
            "select model_run_id from warning.model_runs where indicator = %s and as_of_date = %s "
            "and model_run_id <> %s",
            (INDICATOR, fit.as_of_date, run_id),
        )
        replaced = [r[0] for r in cur.fetchall()]
    return StoreOutcome(run_id, publish(conn, result), replaced)


def config_with(config: LoanFileConfig, **changes: Any) -> LoanFileConfig:
    """``config`` with the given fields changed (None leaves a field as it is)."""
    return dataclasses.replace(config, **{k: v for k, v in changes.items() if v is not None})


# ------------------------------------------------------------------------------------------------ printing


def _f(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None or not math.isfinite(value) else f"{value:.{digits}f}"


def _strength(iv: float) -> str:
    """The usual reading of an information value (Siddiqi)."""
    return "useless" if iv < 0.02 else "weak" if iv < 0.1 else "medium" if iv < 0.3 else "strong"


def describe(fit: FileFit) -> str:
    """What ``ews credit fit-file`` prints: the samples, discrimination and calibration, the features."""
    from warning_models.summary import format_table

    loans, split = fit.loans, fit.split
    lines = [
        f"{loans.name}: {loans.n:,} loans, {loans.defaults:,} defaults ({loans.defaults / loans.n:.1%}); "
        f"{len(loans.numeric) + len(loans.categorical)} candidate features "
        f"({len(loans.numeric)} numeric, {len(loans.categorical)} categorical)",
        *[f"  note: {name} {why}" for name, why in loans.notes.items()],
        *[f"  left out: {name} ({why})" for name, why in loans.ignored.items()],
        f"split: {split.note}",
        "",
        "Discrimination and calibration (HL: Hosmer-Lemeshow over "
        f"{fit.config.calibration_bands} equal-count PD bands)",
        format_table(
            ["sample", "loans", "defaults", "auc", "gini", "ks", "brier", "hl_statistic", "hl_pvalue"],
            [
                (r.sample, f"{r.discrimination.n:,}", f"{r.discrimination.events:,}", _f(r.metrics["auc"]),
                 _f(r.metrics["gini"]), _f(r.metrics["ks"]), _f(r.metrics["brier"], 4),
                 _f(r.metrics["hl_statistic"], 1), _f(r.metrics["hl_pvalue"]))
                for r in fit.reports
            ],
        ),
    ]
    if fit.repeated is not None:
        r = fit.repeated
        lines += [
            "",
            f"Holdout AUC over {len(r.aucs)} seeded stratified random {1 - r.share:.0%}/{r.share:.0%} splits: "
            f"mean {_f(r.mean)}, sd {_f(r.sd)} (min {_f(min(r.aucs))}, max {_f(max(r.aucs))})",
        ]
        if split.kind is SplitKind.OUT_OF_TIME:
            lines.append(f"  (random splits ignore {OBSERVATION_DATE}: they measure sampling noise, not drift)")
    lines += [
        "",
        "Calibration on the holdout: observed against predicted default rate by PD band",
        format_table(
            ["band", "loans", "defaults", "mean_pd", "observed_rate", "min_pd", "max_pd"],
            [(b, n, e, _f(m), _f(o), _f(lo), _f(hi)) for b, n, e, m, o, lo, hi in fit.holdout.bands],
        ),
        "",
        f"Features: information value on the development sample, PSI of the holdout (score PSI "
        f"{_f(fit.stability.score_psi)})",
        format_table(
            ["feature", "type", "information_value", "strength", "in_model", "coefficient", "psi"],
            [
                (name, "numeric" if name in loans.numeric else "categorical", _f(iv), _strength(iv),
                 "yes" if name in fit.scorecard.features else "no", _f(fit.scorecard.coefficients.get(name)),
                 _f(fit.stability.feature_psi[name]))
                for name, iv in sorted(fit.scorecard.information_values().items(), key=lambda kv: -kv[1])
            ],
        ),
    ]
    return "\n".join(lines)
