"""Credit: probability that a performing loan defaults (90+ days past due) within the horizon, by a WoE scorecard.

Training sample: loan snapshots every ``snapshot_step_days`` going back from ``as_of - horizon_days``, each a
live, non-defaulted loan with point-in-time features; label = the loan defaults within the following
``horizon_days`` (all observed by ``as_of``, so nothing leaks). Features are binned into weight-of-evidence bins
and a statsmodels Logit is fitted on the WoE values (``warning_models.credit.scorecard``).

Validation on a fit day: the final model in sample ('train'), and an out-of-time 'holdout': the same procedure
fitted on the snapshots whose outcome window closed before the latest ``holdout_days`` of snapshots began,
scored on those latest snapshots. Every day: a 'backtest' of the PDs published one horizon ago against the
defaults since, and the PSI of the score and of every feature today against training.

The fitted scorecard is stored in the run's params and reused on later days; it is refitted when it is older
than ``max_model_age_days`` or when the score or a feature in the model has shifted (PSI > 0.25), which also
raises a drift alert. Every live or defaulted loan gets its PD, points and IFRS 9 stage
(``warning.credit_loan_days``). Alerts: PD above its threshold, PD jump, stage migration, roll into a worse
delinquency bucket, model drift; each explained.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import psycopg2.extensions

from warning_models.credit.logit import FitMethod
from warning_models.credit.monitoring import (
    BIN_COLUMNS,
    CALIBRATION_COLUMNS,
    FEATURE_COLUMNS,
    VALIDATION_COLUMNS,
    SampleReport,
    bin_rows,
    calibration_rows,
    feature_rows,
    report_as_dict,
    report_from_dict,
    sample_report,
    score_bands,
    stability,
    validation_rows,
)
from warning_models.credit.panel import (
    CATEGORICAL,
    FEATURES,
    FeatureWindows,
    LoanPanel,
    feature_label,
    features,
    live_mask,
    load_panel,
)
from warning_models.credit.scorecard import Scorecard, ScorecardConfig, fit_scorecard
from warning_models.credit.staging import StagingRules, bucket_of, bucket_rank, stage_loans
from warning_models.credit.woe import BinningConfig
from warning_models.errors import InsufficientHistoryError
from warning_models.indicators.base import (
    Alert,
    Domain,
    EntityType,
    IndicatorResult,
    IndicatorValue,
    ModelRun,
    Severity,
    TableRows,
    config_from_env,
    previous_run_params,
    data_hash,
    fmt,
    read_frame,
    severity_for,
)

log = logging.getLogger(__name__)

INDICATOR = "credit_pd_logit"
DOMAIN = Domain.CREDIT
KIND_PD_JUMP = "credit_pd_jump"
KIND_STAGE = "credit_stage_migration"
KIND_ROLL = "credit_bucket_roll"
KIND_DRIFT = "credit_model_drift"
MODEL_CLASS = "statsmodels.discrete.discrete_model.Logit on weight-of-evidence bins"


@dataclass(frozen=True)
class CreditPdConfig:
    """Settings of the credit PD indicator; each can be set with ``EWS_CREDIT_<FIELD>``."""

    horizon_days: int = 60  # label: default within this many days after the snapshot
    snapshot_step_days: int = 7  # one training snapshot every this many days
    training_window_days: int = 364  # oldest snapshot: as_of - horizon_days - training_window_days
    holdout_days: int = 28  # out-of-time holdout: the snapshots of the latest this many days
    dpd_window_days: int = 30
    payment_window_days: int = 90
    missed_paid_share: float = 0.5
    paid_ratio_cap: float = 2.0
    min_positives: int = 10  # fewer defaults in the training sample: InsufficientHistoryError
    min_information_value: float = 0.02
    max_bins: int = 6
    max_model_age_days: int = 28  # refit a scorecard this old
    alert_medium_pd: float = 0.25
    alert_high_pd: float = 0.5
    pd_jump_days: int = 7  # PD jump: against the PD this many days before
    pd_jump_ratio: float = 3.0
    pd_jump_min_pd: float = 0.1
    backstop_dpd: int = 30
    default_dpd: int = 90
    sicr_pd_ratio: float = 2.0
    sicr_min_pd_increase: float = 0.05
    roll_alert_bucket: str = "30-59"  # a roll into this bucket or a worse one raises an alert
    base_points: float = 600.0
    base_odds: float = 50.0
    points_to_double_odds: float = 20.0
    calibration_bands: int = 10
    explain_top_features: int = 3

    @classmethod
    def from_env(cls) -> "CreditPdConfig":
        return config_from_env(cls, "CREDIT")

    @property
    def windows(self) -> FeatureWindows:
        return FeatureWindows(
            self.dpd_window_days, self.payment_window_days, self.missed_paid_share, self.paid_ratio_cap
        )

    @property
    def scorecard(self) -> ScorecardConfig:
        return ScorecardConfig(
            min_information_value=self.min_information_value,
            base_points=self.base_points,
            base_odds=self.base_odds,
            points_to_double_odds=self.points_to_double_odds,
            binning=BinningConfig(max_bins=self.max_bins),
        )

    @property
    def staging(self) -> StagingRules:
        return StagingRules(self.backstop_dpd, self.default_dpd, self.sicr_pd_ratio, self.sicr_min_pd_increase)


# ------------------------------------------------------------------------------------------ training and fitting


def _design(feats: dict[str, np.ndarray], panel: LoanPanel, days: np.ndarray, loans: np.ndarray) -> pd.DataFrame:
    """The feature rows of (day, loan) pairs: the numeric features and the product."""
    columns: dict[str, Any] = {name: feats[name][days, loans] for name in FEATURES}
    columns["product"] = panel.product[loans]
    return pd.DataFrame(columns)


@dataclass(frozen=True)
class TrainingSample:
    frame: pd.DataFrame
    y: np.ndarray
    snapshot: np.ndarray  # each row's snapshot date (datetime64[D])
    rows_read: int


def _training_sample(conn: psycopg2.extensions.connection, as_of: dt.date, config: CreditPdConfig) -> TrainingSample:
    """Snapshots every step back from as_of - horizon; label = default in (s, s + horizon], known by as_of."""
    last = as_of - dt.timedelta(days=config.horizon_days)
    n_snapshots = config.training_window_days // config.snapshot_step_days + 1
    snapshots = [last - dt.timedelta(days=config.snapshot_step_days * k) for k in range(n_snapshots)]
    start = snapshots[-1] - dt.timedelta(days=config.windows.lookback_days)
    panel, n_rows = load_panel(conn, start, as_of, snapshots)
    feats = features(panel, config.windows)
    live = live_mask(panel)
    snapshot_days = np.array([panel.day(d) for d in snapshots], dtype=np.int64)
    defaults_cum = np.vstack([np.zeros((1, live.shape[1])), np.cumsum(panel.is_default, axis=0)])
    day_idx, loan_idx = np.nonzero(live[snapshot_days])
    day_idx = snapshot_days[day_idx]
    horizon_end = day_idx + config.horizon_days
    y = (defaults_cum[horizon_end + 1, loan_idx] - defaults_cum[day_idx + 1, loan_idx]) > 0
    dates = np.datetime64(panel.start, "D") + day_idx.astype("timedelta64[D]")
    return TrainingSample(_design(feats, panel, day_idx, loan_idx), y, dates, n_rows)


@dataclass(frozen=True)
class Fit:
    """A scorecard with its validation on the day it was fitted."""

    scorecard: Scorecard
    fitted_as_of: dt.date
    training_start: dt.date
    training_end: dt.date
    n_obs: int
    data_hash: str
    score_bands: dict[str, list[float]]
    reports: list[SampleReport]  # train, and holdout when history allows
    holdout_note: str
    rows_read: int = 0
    reason: str = ""

    def as_params(self) -> dict[str, Any]:
        return {
            "scorecard": self.scorecard.as_dict(),
            "fitted_as_of": self.fitted_as_of.isoformat(),
            "training_start": self.training_start.isoformat(),
            "training_end": self.training_end.isoformat(),
            "n_obs": self.n_obs,
            "data_hash": self.data_hash,
            "score_bands": self.score_bands,
            "fit_reports": [report_as_dict(r) for r in self.reports],
            "holdout_note": self.holdout_note,
        }

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> "Fit":
        return cls(
            Scorecard.from_dict(params["scorecard"]),
            dt.date.fromisoformat(params["fitted_as_of"]),
            dt.date.fromisoformat(params["training_start"]),
            dt.date.fromisoformat(params["training_end"]),
            int(params["n_obs"]),
            params["data_hash"],
            params["score_bands"],
            [report_from_dict(r) for r in params.get("fit_reports", [])],
            params.get("holdout_note", ""),
        )


def _holdout(sample: TrainingSample, config: CreditPdConfig) -> tuple[SampleReport | None, str]:
    """Out-of-time validation: fit on the snapshots whose outcome window closed before the holdout's first
    snapshot, score the holdout (the latest ``holdout_days`` of snapshots)."""
    last = sample.snapshot.max()
    holdout_first = last - np.timedelta64(config.holdout_days - 1, "D")
    holdout = sample.snapshot >= holdout_first
    development = sample.snapshot + np.timedelta64(config.horizon_days, "D") < holdout_first
    y_dev, y_hold = sample.y[development], sample.y[holdout]
    if y_dev.sum() < config.min_positives or y_hold.sum() == 0 or y_hold.all():
        return None, (
            f"no out-of-time holdout: {int(y_dev.sum())} defaults in the development snapshots (need "
            f"{config.min_positives}) and {int(y_hold.sum())} in the holdout; see the daily backtest"
        )
    dev = fit_scorecard(
        sample.frame[development].reset_index(drop=True), y_dev, list(FEATURES), list(CATEGORICAL), config.scorecard
    )
    report = sample_report("holdout", y_hold, dev.predict(sample.frame[holdout]), config.calibration_bands)
    dev_end = str(sample.snapshot[development].max())
    return report, (
        f"out-of-time holdout: fitted on snapshots to {dev_end} (outcomes closed before {holdout_first}), "
        f"scored on {int(holdout.sum())} loan-snapshots from {holdout_first} to {last}"
    )


def fit_pd_scorecard(conn: psycopg2.extensions.connection, as_of: dt.date, config: CreditPdConfig) -> Fit:
    """Fit the scorecard on every snapshot whose outcome is known by ``as_of``; validate in and out of time."""
    sample = _training_sample(conn, as_of, config)
    n_positive = int(sample.y.sum())
    if n_positive < config.min_positives:
        raise InsufficientHistoryError(INDICATOR, config.min_positives, n_positive)
    scorecard = fit_scorecard(sample.frame, sample.y, list(FEATURES), list(CATEGORICAL), config.scorecard)
    train_pd = scorecard.predict(sample.frame)
    reports = [sample_report("train", sample.y, train_pd, config.calibration_bands)]
    holdout, note = _holdout(sample, config)
    if holdout is not None:
        reports.append(holdout)
    return Fit(
        scorecard=scorecard,
        fitted_as_of=as_of,
        training_start=pd.Timestamp(sample.snapshot.min()).date(),
        training_end=pd.Timestamp(sample.snapshot.max()).date(),
        n_obs=len(sample.y),
        data_hash=data_hash(sample.frame.assign(label=sample.y)),
        score_bands=score_bands(scorecard.points(train_pd)),
        reports=reports,
        holdout_note=note,
        rows_read=sample.rows_read,
    )


def _prior_fit(conn: psycopg2.extensions.connection, as_of: dt.date) -> Fit | None:
    """The scorecard in force the day before: the latest run of this indicator before ``as_of``."""
    params = previous_run_params(conn, INDICATOR, as_of)
    if params is None or "scorecard" not in params:
        return None
    return Fit.from_params(params)


# ----------------------------------------------------------------------------------------------- daily scoring


@dataclass(frozen=True)
class Book:
    """Today's loans on book: the live ones (scored) and the defaulted ones (stage 3)."""

    panel: LoanPanel
    day: int
    loans: np.ndarray  # panel indices of loans on book today with a balance
    live: np.ndarray  # (len(loans),) bool: not in default
    frame: pd.DataFrame  # features of the live loans


def _book(conn: psycopg2.extensions.connection, as_of: dt.date, config: CreditPdConfig) -> tuple[Book, int]:
    panel, n_rows = load_panel(conn, as_of - dt.timedelta(days=config.windows.lookback_days), as_of, [as_of])
    day = panel.day(as_of)
    feats = features(panel, config.windows)
    on_book = panel.present[day] & (np.nan_to_num(panel.balance[day]) > 0)
    loans = np.flatnonzero(on_book)
    live = live_mask(panel)[day, loans]
    frame = _design(feats, panel, np.full(int(live.sum()), day), loans[live])
    return Book(panel, day, loans, live, frame), n_rows


@dataclass(frozen=True)
class Previous:
    """What was published for each loan on earlier days (warning.credit_loan_days)."""

    stage: dict[str, int] = field(default_factory=dict)
    origination_pd: dict[str, float] = field(default_factory=dict)
    bucket: dict[str, str] = field(default_factory=dict)
    pd_then: dict[str, float] = field(default_factory=dict)
    last_day: dt.date | None = None
    jump_day: dt.date | None = None


_LOAN_DAY_SQL = """
    select loan_id, stage, origination_pd, delinquency_bucket, pd from warning.credit_loan_days where as_of_date = %s
"""


def _latest_day(conn: psycopg2.extensions.connection, before_or_on: dt.date) -> dt.date | None:
    with conn.cursor() as cur:
        cur.execute("select max(as_of_date) from warning.credit_loan_days where as_of_date <= %s", (before_or_on,))
        return cur.fetchone()[0]


def _previous(conn: psycopg2.extensions.connection, as_of: dt.date, config: CreditPdConfig) -> Previous:
    """The latest published day before ``as_of`` (stages, origination PDs, buckets) and the PDs of the latest
    day at least ``pd_jump_days`` before it (no older than a further week)."""
    last_day = _latest_day(conn, as_of - dt.timedelta(days=1))
    then = as_of - dt.timedelta(days=config.pd_jump_days)
    jump_day = _latest_day(conn, then)
    if jump_day is not None and jump_day < then - dt.timedelta(days=7):
        jump_day = None
    if last_day is None:
        return Previous()
    recent = read_frame(conn, _LOAN_DAY_SQL, (last_day,))
    earlier = read_frame(conn, _LOAN_DAY_SQL, (jump_day,)) if jump_day is not None else recent.iloc[:0]
    ids = recent["loan_id"].tolist()
    return Previous(
        stage={i: int(v) for i, v in zip(ids, recent["stage"])},
        origination_pd=_finite_map(ids, recent["origination_pd"]),
        bucket=dict(zip(ids, recent["delinquency_bucket"])),
        pd_then=_finite_map(earlier["loan_id"].tolist(), earlier["pd"]),
        last_day=last_day,
        jump_day=jump_day,
    )


def _finite_map(ids: list[str], values: pd.Series) -> dict[str, float]:
    return {i: float(v) for i, v in zip(ids, values) if v is not None and np.isfinite(float(v))}


# --------------------------------------------------------------------------------------------- explanations


def _drivers(scorecard: Scorecard, row: pd.Series, excess: np.ndarray, config: CreditPdConfig) -> str:
    """The features that push this loan's PD up most, each with its value, bin and log-odds vs the average."""
    parts = []
    for i in np.argsort(-excess)[: config.explain_top_features]:
        if excess[i] <= 0:
            break
        name = scorecard.features[i]
        bins = scorecard.bins[name]
        index = int(bins.bin_index(np.array([row[name]]))[0])
        label = bins.labels()[index] if index >= 0 else "missing"
        value = row[name]
        shown = fmt(float(value)) if isinstance(value, (int, float, np.floating)) else str(value)
        parts.append(f"{feature_label(name, config.windows)} {shown} (bin {label}, {excess[i]:+.2f} log-odds)")
    return "; ".join(parts) if parts else "no feature above the portfolio average"


def _score_words(pd_value: float, points: float, config: CreditPdConfig) -> str:
    return f"PD {pd_value:.2f} of default within {config.horizon_days} days (score {points:.0f} points)"


# ------------------------------------------------------------------------------------------------- compute


def _refit_reason(prior: Fit | None, as_of: dt.date, stab_shifted: list[str], config: CreditPdConfig) -> str | None:
    if prior is None:
        return "no scorecard yet"
    age = (as_of - prior.fitted_as_of).days
    if age >= config.max_model_age_days:
        return f"scorecard fitted {age} days ago (refit every {config.max_model_age_days})"
    if stab_shifted:
        return f"population shifted (PSI > 0.25): {', '.join(stab_shifted)}"
    return None


def _backtest(
    conn: psycopg2.extensions.connection, book: Book, as_of: dt.date, config: CreditPdConfig
) -> SampleReport | None:
    """The PDs published one horizon ago against the defaults since (every day of the window is in the panel)."""
    then = as_of - dt.timedelta(days=config.horizon_days)
    published = read_frame(
        conn, "select loan_id, pd from warning.credit_loan_days where as_of_date = %s and pd is not null", (then,)
    )
    if published.empty:
        return None
    panel = book.panel
    first = max(panel.day(then) + 1, 0)
    defaulted_ids = set(panel.loan_ids[np.flatnonzero(panel.is_default[first : book.day + 1].any(axis=0))].tolist())
    y = published["loan_id"].isin(defaulted_ids).to_numpy()
    report = sample_report("backtest", y, published["pd"].to_numpy(dtype=np.float64), config.calibration_bands)
    return report if report.discrimination.events else None


def compute(
    conn: psycopg2.extensions.connection, as_of: dt.date, config: CreditPdConfig | None = None
) -> IndicatorResult:
    """PD, points and IFRS 9 stage per loan on ``as_of`` from the scorecard in force (refitted when due)."""
    config = config or CreditPdConfig.from_env()
    run_id = f"{INDICATOR}:{as_of.isoformat()}"
    book, rows_read = _book(conn, as_of, config)
    prior = _prior_fit(conn, as_of)
    prior_stab = stability(prior.scorecard, book.frame, prior.score_bands) if prior and len(book.frame) else None
    shifted = prior_stab.shifted(prior.scorecard.features) if prior and prior_stab else []
    reason = _refit_reason(prior, as_of, shifted, config)
    fit, refitted = prior, False
    if reason is not None:
        try:
            fit = fit_pd_scorecard(conn, as_of, config)
            refitted = True
        except InsufficientHistoryError:
            if prior is None:
                raise
            log.info("%s: refit on %s skipped (too few defaults); keeping the scorecard of %s", INDICATOR, as_of,
                     prior.fitted_as_of)
    assert fit is not None
    scorecard = fit.scorecard
    stab = prior_stab if not refitted and prior_stab is not None else stability(scorecard, book.frame, fit.score_bands)

    panel = book.panel
    loan_ids = panel.loan_ids[book.loans]
    dpd = panel.dpd[book.day, book.loans]
    buckets = bucket_of(dpd)
    pds = np.full(len(book.loans), np.nan)
    pds[book.live] = scorecard.predict(book.frame)
    points = np.where(book.live, scorecard.points(np.nan_to_num(pds, nan=0.5)), np.nan)
    previous = _previous(conn, as_of, config)
    origination = np.array(
        [previous.origination_pd.get(loan, p) for loan, p in zip(loan_ids.tolist(), pds.tolist())], dtype=np.float64
    )
    stages, stage_reasons = stage_loans(dpd, pds, origination, config.staging)
    excess = scorecard.excess_log_odds(book.frame)
    live_row = np.cumsum(book.live) - 1  # position of each live loan in book.frame

    values: list[IndicatorValue] = []
    alerts: list[Alert] = []
    loan_rows: list[tuple[Any, ...]] = []
    for k, loan in enumerate(loan_ids.tolist()):
        p, stage = float(pds[k]), int(stages[k])
        before = previous.stage.get(loan)
        loan_rows.append(
            (as_of, loan, panel.borrower_id[book.loans[k]], panel.segment[book.loans[k]], int(dpd[k]), buckets[k],
             None if np.isnan(p) else p, None if np.isnan(points[k]) else float(points[k]),
             None if np.isnan(origination[k]) else float(origination[k]), stage, stage_reasons[k], before, run_id)
        )
        why = ""
        if book.live[k]:
            values.append(IndicatorValue(EntityType.LOAN, loan, p, config.alert_medium_pd))
            j = live_row[k]
            why = _drivers(scorecard, book.frame.iloc[j], excess[j], config)
            severity = severity_for(p, config.alert_medium_pd, config.alert_high_pd)
            if severity is not None:
                threshold = config.alert_high_pd if severity is Severity.HIGH else config.alert_medium_pd
                alerts.append(Alert(
                    EntityType.LOAN, loan, p, threshold, severity,
                    f"{_score_words(p, points[k], config)} crossed {threshold:.2f}, driven by: {why}.",
                ))
            p_then = previous.pd_then.get(loan)
            if p_then is not None and p >= config.pd_jump_min_pd and p >= config.pd_jump_ratio * p_then:
                alerts.append(Alert(
                    EntityType.LOAN, loan, p, config.pd_jump_ratio * p_then,
                    Severity.HIGH if p >= config.alert_high_pd else Severity.MEDIUM,
                    f"PD jumped to {p:.2f} from {p_then:.2f} on {previous.jump_day} (x{p / max(p_then, 1e-12):.1f}, "
                    f"threshold x{config.pd_jump_ratio:g}), driven by: {why}.",
                    kind=KIND_PD_JUMP,
                ))
        if before is not None and stage > before:
            alerts.append(Alert(
                EntityType.LOAN, loan, float(stage), float(before + 1), Severity.HIGH if stage == 3 else Severity.MEDIUM,
                f"IFRS 9 stage {before} -> {stage} since {previous.last_day}: {stage_reasons[k]}"
                + (f"; {_score_words(p, points[k], config)}" if book.live[k] else "") + ".",
                kind=KIND_STAGE,
            ))
        bucket_before = previous.bucket.get(loan)
        rank = bucket_rank(buckets[k])
        if bucket_before is not None and rank > bucket_rank(bucket_before) and rank >= bucket_rank(config.roll_alert_bucket):
            alerts.append(Alert(
                EntityType.LOAN, loan, float(dpd[k]), float(30 * bucket_rank(config.roll_alert_bucket) - 30),
                Severity.MEDIUM if rank <= bucket_rank(config.roll_alert_bucket) else Severity.HIGH,
                f"Rolled from {bucket_before} to {buckets[k]} days past due ({int(dpd[k])} days) since "
                f"{previous.last_day}" + (f"; {_score_words(p, points[k], config)}" if book.live[k] else "") + ".",
                kind=KIND_ROLL,
            ))
    if prior is not None and prior_stab is not None and shifted:
        alerts.append(Alert(
            EntityType.MODEL, INDICATOR, prior_stab.score_psi, 0.25,
            Severity.HIGH if "score" in shifted else Severity.MEDIUM,
            "Population shifted against the scorecard fitted on "
            f"{prior.fitted_as_of}: " + ", ".join(
                f"{name} PSI {prior_stab.score_psi if name == 'score' else prior_stab.feature_psi[name]:.2f}"
                for name in shifted
            ) + (" (> 0.25); refitted today." if refitted else " (> 0.25); refit failed, the old scorecard stays."),
            kind=KIND_DRIFT,
        ))

    reports = list(fit.reports) if refitted else []
    backtest = _backtest(conn, book, as_of, config)
    if backtest is not None:
        reports.append(backtest)
    live_pd = pds[book.live]
    today = {
        "loans_scored": float(len(live_pd)),
        "mean_pd": float(live_pd.mean()) if len(live_pd) else None,
        "score_psi": stab.score_psi,
        "max_feature_psi": max(stab.feature_psi.values(), default=None),
        "model_age_days": float((as_of - fit.fitted_as_of).days),
        "stage_2_loans": float((stages == 2).sum()),
        "stage_3_loans": float((stages == 3).sum()),
    }
    run = ModelRun(
        indicator=INDICATOR,
        domain=DOMAIN,
        as_of_date=as_of,
        model_class=MODEL_CLASS,
        training_start=fit.training_start,
        training_end=fit.training_end,
        n_obs=fit.n_obs,
        params={
            **fit.as_params(),
            "refitted": refitted,
            "refit_reason": reason,
            "horizon_days": config.horizon_days,
            "alert_medium_pd": config.alert_medium_pd,
            "alert_high_pd": config.alert_high_pd,
        },
        fit_stats={
            **scorecard.fit_stats,
            "information_values": scorecard.information_values(),
            "loan_day_rows_read": rows_read + fit.rows_read if refitted else rows_read,
            "loans_scored": int(len(live_pd)),
            "mean_pd_scored": today["mean_pd"],
        },
        data_hash=fit.data_hash,
    )
    tables = [
        TableRows("warning.credit_loan_days", LOAN_DAY_COLUMNS, loan_rows),
        TableRows("warning.model_validations", VALIDATION_COLUMNS, validation_rows(run_id, reports, today)),
        TableRows("warning.calibration_bands", CALIBRATION_COLUMNS, calibration_rows(run_id, reports)),
        TableRows("warning.scorecard_features", FEATURE_COLUMNS, feature_rows(run_id, scorecard, stab)),
        TableRows("warning.scorecard_bins", BIN_COLUMNS, bin_rows(run_id, scorecard, stab)),
    ]
    return IndicatorResult(run, values, alerts, tables)


LOAN_DAY_COLUMNS = (
    "as_of_date", "loan_id", "borrower_id", "segment", "days_past_due", "delinquency_bucket", "pd", "score_points",
    "origination_pd", "stage", "stage_reason", "previous_stage", "model_run_id",
)
