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
    defaulted_between,
    feature_label,
    features_on,
    load_panel,
    on_book,
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
    read_frame_by_copy,
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
    max_training_rows: int = 1_500_000  # loan-snapshots a fit reads at most: a larger book samples its loans
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


def _design(feats: dict[str, np.ndarray], panel: LoanPanel, loans: np.ndarray) -> pd.DataFrame:
    """The feature rows of some loans on one day: the numeric features and the product."""
    columns: dict[str, Any] = {name: feats[name] for name in FEATURES}
    columns["product"] = panel.product[loans]
    return pd.DataFrame(columns)


@dataclass(frozen=True)
class TrainingSample:
    frame: pd.DataFrame
    y: np.ndarray
    snapshot: np.ndarray  # each row's snapshot date (datetime64[D])
    rows_read: int
    sample_share: float = 1.0  # the share of the book's loans it holds


def _sample_share(conn: psycopg2.extensions.connection, day: dt.date, snapshots: int, config: CreditPdConfig) -> float:
    """The share of loans a fit reads: all, unless the book times the snapshots exceeds max_training_rows."""
    with conn.cursor() as cur:
        cur.execute("select count(*) from marts.fct_loan_days where performance_date = %s", (day,))
        (book,) = cur.fetchone()
    return min(1.0, config.max_training_rows / max(1, book * snapshots))


def _training_sample(conn: psycopg2.extensions.connection, as_of: dt.date, config: CreditPdConfig) -> TrainingSample:
    """Snapshots every step back from as_of - horizon; label = default in (s, s + horizon], known by as_of."""
    last = as_of - dt.timedelta(days=config.horizon_days)
    n_snapshots = config.training_window_days // config.snapshot_step_days + 1
    snapshots = [last - dt.timedelta(days=config.snapshot_step_days * k) for k in range(n_snapshots)]
    start = snapshots[-1] - dt.timedelta(days=config.windows.lookback_days)
    share = _sample_share(conn, last, n_snapshots, config)
    panel, n_rows = load_panel(conn, start, as_of, snapshots, config.windows, sample_share=share)
    feats: dict[str, list[np.ndarray]] = {name: [] for name in FEATURES}
    sampled, labels, dates = [], [], []
    for snapshot in snapshots:
        day = panel.day(snapshot)
        loans, live = on_book(panel, day)
        loans = loans[live]
        for name, values in features_on(panel, day, loans, config.windows).items():
            feats[name].append(values)
        sampled.append(loans)
        labels.append(np.isin(loans, defaulted_between(panel, day + 1, day + config.horizon_days)))
        dates.append(np.full(len(loans), np.datetime64(snapshot, "D")))
    frame = _design({k: np.concatenate(v) for k, v in feats.items()}, panel, np.concatenate(sampled))
    return TrainingSample(frame, np.concatenate(labels), np.concatenate(dates), n_rows, share)


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
    sample_share: float = 1.0  # the share of the book's loans the fit read (max_training_rows)

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
            "training_sample_share": self.sample_share,
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
            sample_share=float(params.get("training_sample_share", 1.0)),
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
        sample_share=sample.sample_share,
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
    loans: np.ndarray  # panel indices of loans on book today with a balance, ascending
    live: np.ndarray  # (len(loans),) bool: not in default
    dpd: np.ndarray  # (len(loans),) days past due today
    frame: pd.DataFrame  # features of the live loans


def _book(conn: psycopg2.extensions.connection, as_of: dt.date, config: CreditPdConfig) -> tuple[Book, int]:
    """Today's book with its features; the delinquent days read reach back one horizon (the daily backtest)."""
    panel, n_rows = load_panel(
        conn, as_of - dt.timedelta(days=config.windows.lookback_days), as_of, [as_of], config.windows,
        delinquent_from=as_of - dt.timedelta(days=max(config.horizon_days, config.windows.dpd_window_days) - 1),
    )
    day = panel.day(as_of)
    loans, live = on_book(panel, day)
    frame = _design(features_on(panel, day, loans[live], config.windows), panel, loans[live])
    snapshot = panel.snapshot(day)
    at = np.full(len(panel.loan_ids), -1, dtype=np.int64)
    at[snapshot.loan] = np.arange(len(snapshot))
    dpd = np.maximum(np.nan_to_num(snapshot.columns["days_past_due"][at[loans]]), 0.0)
    return Book(panel, day, loans, live, dpd, frame), n_rows


@dataclass(frozen=True)
class Previous:
    """What was published for each loan on earlier days (warning.credit_loan_days), by loan_id."""

    latest: pd.DataFrame  # the latest day before as_of: stage, origination_pd, delinquency_bucket
    pd_then: pd.Series  # the PDs of the day one PD-jump window before
    last_day: dt.date | None = None
    jump_day: dt.date | None = None

    def aligned(self, loan_ids: np.ndarray) -> pd.DataFrame:
        """The previous stage, origination PD, bucket and PD then of these loans (NaN / None when new)."""
        out = self.latest.reindex(loan_ids)
        out["pd_then"] = self.pd_then.reindex(loan_ids).to_numpy()
        return out


_LOAN_DAY_SQL = """
    select loan_id, stage, origination_pd, delinquency_bucket, pd from warning.credit_loan_days where as_of_date = %s
"""
_LOAN_DAY_TYPES = {
    "loan_id": "str", "stage": "float64", "origination_pd": "float64", "delinquency_bucket": "str", "pd": "float64",
}


def _latest_day(conn: psycopg2.extensions.connection, before_or_on: dt.date) -> dt.date | None:
    with conn.cursor() as cur:
        cur.execute("select max(as_of_date) from warning.credit_loan_days where as_of_date <= %s", (before_or_on,))
        return cur.fetchone()[0]


def _previous(conn: psycopg2.extensions.connection, as_of: dt.date, config: CreditPdConfig) -> Previous:
    """The latest published day before ``as_of`` (stages, origination PDs, buckets) and the PDs of the latest
    day at least ``pd_jump_days`` before it (no older than a further week)."""
    empty = pd.DataFrame(columns=list(_LOAN_DAY_TYPES)).set_index("loan_id")
    last_day = _latest_day(conn, as_of - dt.timedelta(days=1))
    then = as_of - dt.timedelta(days=config.pd_jump_days)
    jump_day = _latest_day(conn, then)
    if jump_day is not None and jump_day < then - dt.timedelta(days=7):
        jump_day = None
    if last_day is None:
        return Previous(empty.drop(columns="pd"), empty["pd"])
    recent = read_frame_by_copy(conn, _LOAN_DAY_SQL, (last_day,), _LOAN_DAY_TYPES).set_index("loan_id")
    earlier = (
        read_frame_by_copy(conn, _LOAN_DAY_SQL, (jump_day,), _LOAN_DAY_TYPES).set_index("loan_id")
        if jump_day is not None else empty
    )
    pd_then = earlier["pd"].astype(np.float64)
    return Previous(recent.drop(columns="pd"), pd_then[np.isfinite(pd_then)], last_day, jump_day)


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
    """The PDs published one horizon ago against the defaults since (the book's delinquent days cover them)."""
    then = as_of - dt.timedelta(days=config.horizon_days)
    published = read_frame(
        conn, "select loan_id, pd from warning.credit_loan_days where as_of_date = %s and pd is not null", (then,)
    )
    if published.empty:
        return None
    panel = book.panel
    defaulted = panel.loan_ids[defaulted_between(panel, max(panel.day(then) + 1, 0), book.day)]
    y = published["loan_id"].isin(set(defaulted.tolist())).to_numpy()
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
    dpd = book.dpd
    buckets = bucket_of(dpd)
    pds = np.full(len(book.loans), np.nan)
    pds[book.live] = scorecard.predict(book.frame)
    points = np.where(book.live, scorecard.points(np.nan_to_num(pds, nan=0.5)), np.nan)
    previous = _previous(conn, as_of, config)
    before = previous.aligned(loan_ids)
    origination = np.where(before["origination_pd"].notna(), before["origination_pd"].to_numpy(dtype=np.float64), pds)
    stages, stage_reasons = stage_loans(dpd, pds, origination, config.staging)
    stage_before = before["stage"].to_numpy(dtype=np.float64)  # NaN: not published before
    bucket_before = before["delinquency_bucket"].to_numpy(dtype=object)
    live_row = np.cumsum(book.live) - 1  # position of each live loan in book.frame
    excess = None  # each live loan's log-odds above the portfolio's, computed once an alert needs it

    def why(k: int) -> str:
        nonlocal excess
        if excess is None:
            excess = scorecard.excess_log_odds(book.frame)
        j = live_row[k]
        return _drivers(scorecard, book.frame.iloc[j], excess[j], config)

    values = [
        IndicatorValue(EntityType.LOAN, loan, p, config.alert_medium_pd)
        for loan, p in zip(loan_ids[book.live].tolist(), pds[book.live].tolist())
    ]
    alerts: list[Alert] = []
    severities = np.full(len(book.loans), None, dtype=object)
    severities[book.live] = [severity_for(p, config.alert_medium_pd, config.alert_high_pd) for p in pds[book.live]]
    p_then = before["pd_then"].to_numpy(dtype=np.float64)
    jumped = book.live & (pds >= config.pd_jump_min_pd) & (pds >= config.pd_jump_ratio * p_then)  # NaN: False
    migrated = np.isfinite(stage_before) & (stages > np.nan_to_num(stage_before, nan=99))
    roll_rank = bucket_rank(config.roll_alert_bucket)
    ranks = np.array([bucket_rank(b) for b in buckets])
    ranks_before = np.array([bucket_rank(b) if isinstance(b, str) else 99 for b in bucket_before])
    rolled = (ranks > ranks_before) & (ranks >= roll_rank)
    for k in np.flatnonzero((severities != None) | jumped | migrated | rolled):  # noqa: E711
        loan, p, stage = loan_ids[k], float(pds[k]), int(stages[k])
        if severities[k] is not None:
            severity = severities[k]
            threshold = config.alert_high_pd if severity is Severity.HIGH else config.alert_medium_pd
            alerts.append(Alert(
                EntityType.LOAN, loan, p, threshold, severity,
                f"{_score_words(p, points[k], config)} crossed {threshold:.2f}, driven by: {why(k)}.",
            ))
        if jumped[k]:
            alerts.append(Alert(
                EntityType.LOAN, loan, p, config.pd_jump_ratio * p_then[k],
                Severity.HIGH if p >= config.alert_high_pd else Severity.MEDIUM,
                f"PD jumped to {p:.2f} from {p_then[k]:.2f} on {previous.jump_day} (x{p / max(p_then[k], 1e-12):.1f}, "
                f"threshold x{config.pd_jump_ratio:g}), driven by: {why(k)}.",
                kind=KIND_PD_JUMP,
            ))
        if migrated[k]:
            stage_then = int(stage_before[k])
            alerts.append(Alert(
                EntityType.LOAN, loan, float(stage), float(stage_then + 1), Severity.HIGH if stage == 3 else Severity.MEDIUM,
                f"IFRS 9 stage {stage_then} -> {stage} since {previous.last_day}: {stage_reasons[k]}"
                + (f"; {_score_words(p, points[k], config)}" if book.live[k] else "") + ".",
                kind=KIND_STAGE,
            ))
        if rolled[k]:
            alerts.append(Alert(
                EntityType.LOAN, loan, float(dpd[k]), float(30 * roll_rank - 30),
                Severity.MEDIUM if ranks[k] <= roll_rank else Severity.HIGH,
                f"Rolled from {bucket_before[k]} to {buckets[k]} days past due ({int(dpd[k])} days) since "
                f"{previous.last_day}" + (f"; {_score_words(p, points[k], config)}" if book.live[k] else "") + ".",
                kind=KIND_ROLL,
            ))
    loan_rows = list(zip(
        [as_of] * len(loan_ids), loan_ids.tolist(), panel.borrower_id[book.loans].tolist(),
        panel.segment[book.loans].tolist(), dpd.astype(np.int64).tolist(), buckets.tolist(),
        _nullable(pds), _nullable(points), _nullable(origination), stages.tolist(), stage_reasons,
        [None if np.isnan(b) else int(b) for b in stage_before], [run_id] * len(loan_ids),
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


def _nullable(values: np.ndarray) -> list[float | None]:
    """Floats, NaN as None (NULL)."""
    return [None if np.isnan(v) else float(v) for v in values.tolist()]


LOAN_DAY_COLUMNS = (
    "as_of_date", "loan_id", "borrower_id", "segment", "days_past_due", "delinquency_bucket", "pd", "score_points",
    "origination_pd", "stage", "stage_reason", "previous_stage", "model_run_id",
)
