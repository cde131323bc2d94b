"""Macro: systemic-crisis early warning on the panel of economies, from what was published by ``as_of``.

Indicators per economy and quarter (``marts.fct_macro_indicator_quarters``): the real-time (one-sided HP,
lambda 400,000) credit-to-GDP gap, credit growth and real house-price growth year on year, and the debt
service ratio. Crises are the authority's dating (``marts.dim_systemic_crises``). A quarter is pre-crisis when a
crisis starts 5-12 quarters later; crisis, post-crisis and too-close quarters are left out, and so are quarters
whose outcome was not yet known on ``as_of`` (``macro.crisis_windows``).

- **Signals approach** (Kaminsky-Lizondo-Reinhart): per indicator, the threshold minimising the noise-to-signal
  ratio and the one maximising Alessi-Detken relative usefulness (``theta``), stored in
  ``warning.signal_thresholds`` with their confusion counts and the indicator's AUROC.
- **Logit EWS** (statsmodels ``Logit``, ridge when the sample separates): the probability of being in a
  pre-crisis window, with its alert threshold chosen on the training sample by relative usefulness. Its
  out-of-sample AUROC and usefulness, leave-one-economy-out (every economy predicted by a model that never saw
  it), go to ``warning.model_validations``.
- **Composite stress index**: the mean of the indicators' real-time empirical CDF ranks (0-1).

Alerts per economy on its latest quarter: the logit probability above its threshold, and ``min_signals`` or
more indicators beyond their usefulness thresholds.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
import psycopg2.extensions

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
    data_hash,
    read_frame,
)
from warning_models.macro.crisis_windows import label_quarters
from warning_models.macro.hp_filter import one_sided_gap
from warning_models.macro.logit_ews import fit_logit, leave_one_economy_out
from warning_models.macro.signals import best_threshold, evaluate_indicators
from warning_models.macro.stress_index import stress_index

INDICATOR = "macro_ews"
DOMAIN = Domain.MACRO
INDICATORS = ("credit_gap_pp", "credit_growth_yoy_pct", "house_price_growth_yoy_pct", "debt_service_ratio_pct")


@dataclass(frozen=True)
class MacroEwsConfig:
    """Settings of the systemic early-warning model; each can be set with ``EWS_SYSTEMIC_<FIELD>``."""

    hp_lambda: float = 400_000.0
    min_gap_quarters: int = 12
    horizon_min_quarters: int = 5
    horizon_max_quarters: int = 12
    post_crisis_quarters: int = 6
    theta: float = 0.5  # the policymaker's aversion to missed crises relative to false alarms
    min_crises: int = 2  # fewer dated crises: nothing to learn from
    min_signals: int = 2  # alert when this many indicators signal at once
    high_probability_factor: float = 2.0  # high severity at this multiple of the threshold (capped at 0.95)

    @classmethod
    def from_env(cls) -> "MacroEwsConfig":
        return config_from_env(cls, "SYSTEMIC")


_PANEL_SQL = """
    select economy_code, period_end_date, credit_to_gdp_pct, credit_growth_yoy_pct, house_price_growth_yoy_pct,
           debt_service_ratio_pct
    from marts.fct_macro_indicator_quarters
    where published_date <= %s
    order by economy_code, period_end_date
"""
_CRISES_SQL = """
    select economy_code, crisis_start_date, crisis_end_date
    from marts.dim_systemic_crises
    where published_date <= %s
    order by economy_code, crisis_start_date
"""


def with_credit_gap(panel: pd.DataFrame, config: MacroEwsConfig) -> pd.DataFrame:
    """The panel with each quarter's real-time credit gap (quarters without a ratio get none)."""
    out = panel.copy()
    out["credit_gap_pp"] = np.nan
    for _, rows in out.groupby("economy_code", sort=False):
        known = rows[rows["credit_to_gdp_pct"].notna()]
        if len(known) >= config.min_gap_quarters:
            gaps = one_sided_gap(known["credit_to_gdp_pct"].to_numpy(), config.hp_lambda, config.min_gap_quarters)
            out.loc[known.index, "credit_gap_pp"] = gaps
    return out


def _read(conn: psycopg2.extensions.connection, as_of: dt.date, config: MacroEwsConfig) -> tuple[pd.DataFrame, pd.DataFrame]:
    panel = read_frame(conn, _PANEL_SQL, (as_of,))
    for column in ("credit_to_gdp_pct", *INDICATORS[1:]):
        panel[column] = pd.to_numeric(panel[column], errors="coerce").astype(float)
    crises = read_frame(conn, _CRISES_SQL, (as_of,))
    return with_credit_gap(panel, config), crises


LABELS = {
    "credit_gap_pp": ("credit-to-GDP gap", "pp"),
    "credit_growth_yoy_pct": ("credit growth", "% a year"),
    "house_price_growth_yoy_pct": ("real house prices", "% a year"),
    "debt_service_ratio_pct": ("debt service ratio", "%"),
}


def _describe(row: pd.Series) -> str:
    return ", ".join(f"{LABELS[n][0]} {row[n]:.1f} {LABELS[n][1]}" for n in INDICATORS)


def _explain_signals(row: pd.Series, thresholds: dict[str, float], firing: list[str]) -> str:
    return "; ".join(
        f"{LABELS[n][0]} {row[n]:.1f} {LABELS[n][1]} (threshold {thresholds[n]:.1f})" for n in firing
    )


def compute(
    conn: psycopg2.extensions.connection, as_of: dt.date, config: MacroEwsConfig | None = None
) -> IndicatorResult:
    """Signals, logit probability and stress index of every economy's latest quarter published by ``as_of``."""
    config = config or MacroEwsConfig.from_env()
    panel, crises = _read(conn, as_of, config)
    if len(crises) < config.min_crises:
        raise InsufficientHistoryError(INDICATOR, config.min_crises, len(crises))
    windows = dict(
        horizon_min=config.horizon_min_quarters,
        horizon_max=config.horizon_max_quarters,
        post_crisis_quarters=config.post_crisis_quarters,
    )
    crisis_rows = list(crises.itertuples(index=False, name=None))
    labelled = label_quarters(panel, crisis_rows, last_known_date=as_of, **windows)
    usable = labelled[labelled["usable"]]
    if int(usable["pre_crisis"].sum()) < config.min_crises:
        raise InsufficientHistoryError(INDICATOR, config.min_crises, int(usable["pre_crisis"].sum()))

    # signals approach: one threshold per indicator and criterion
    table = evaluate_indicators(labelled, list(INDICATORS), theta=config.theta)
    signal_rows = [
        (r.indicator, r.criterion, r.direction, r.threshold, config.theta, r.tp, r.fp, r.fn, r.tn,
         r.noise_to_signal, r.relative_usefulness, r.auroc)
        for r in table.itertuples(index=False)
        if np.isfinite(r.threshold)  # an indicator no threshold qualifies for has no row
    ]
    useful = table[table["criterion"] == "relative_usefulness"].set_index("indicator")
    thresholds = {name: float(useful.at[name, "threshold"]) for name in INDICATORS if np.isfinite(useful.at[name, "threshold"])}

    # logit EWS on every usable quarter; threshold by relative usefulness on the training sample
    complete = labelled.dropna(subset=list(INDICATORS))
    model = fit_logit(complete, list(INDICATORS))
    train = complete[complete["usable"]]
    choice = best_threshold(model.predict(train), train["pre_crisis"].astype(int), "relative_usefulness", theta=config.theta)
    oos = leave_one_economy_out(panel.dropna(subset=list(INDICATORS)), crisis_rows, list(INDICATORS),
                                evaluation_known_date=as_of, theta=config.theta, **windows)

    scored = labelled.copy()
    has_all = scored[list(INDICATORS)].notna().all(axis=1)
    scored["crisis_probability"] = np.nan
    scored.loc[has_all, "crisis_probability"] = model.predict(scored[has_all])
    scored["stress_index"] = stress_index(scored, list(INDICATORS))["stress_index"].to_numpy()
    firing_by_row = [
        [n for n in thresholds if np.isfinite(row[n]) and row[n] >= thresholds[n]] for _, row in scored.iterrows()
    ]
    scored["signals_firing"] = firing_by_row

    values: list[IndicatorValue] = []
    alerts: list[Alert] = []
    latest = scored.groupby("economy_code", sort=True).tail(1)
    for _, row in latest.iterrows():
        code, quarter, prob = str(row["economy_code"]), row["period_end_date"], row["crisis_probability"]
        if not np.isfinite(prob):
            continue
        values.append(IndicatorValue(EntityType.ECONOMY, code, float(prob), float(choice.threshold)))
        if prob >= choice.threshold:
            high = min(config.high_probability_factor * choice.threshold, 0.95)
            alerts.append(Alert(
                EntityType.ECONOMY, code, float(prob), float(choice.threshold),
                Severity.HIGH if prob >= high else Severity.MEDIUM,
                f"Logit early-warning probability of a systemic crisis in {config.horizon_min_quarters}-"
                f"{config.horizon_max_quarters} quarters for {code}: {prob:.2f} in the quarter ending {quarter} "
                f"(threshold {choice.threshold:.2f}, chosen for relative usefulness {choice.relative_usefulness:.2f} at "
                f"theta {config.theta}); stress index {row['stress_index']:.2f}; {_describe(row)}.",
                kind="macro_ews_probability",
            ))
        firing = row["signals_firing"]
        if len(firing) >= config.min_signals:
            alerts.append(Alert(
                EntityType.ECONOMY, code, float(len(firing)), float(config.min_signals),
                Severity.HIGH if len(firing) >= len(INDICATORS) - 1 else Severity.MEDIUM,
                f"{len(firing)} of {len(INDICATORS)} early-warning indicators of {code} signal a crisis within "
                f"{config.horizon_max_quarters} quarters in the quarter ending {quarter}: "
                f"{_explain_signals(row, thresholds, firing)} (thresholds maximise relative usefulness at theta "
                f"{config.theta}).",
                kind="macro_signals",
            ))

    quarter_rows = [
        (r.economy_code, r.period_end_date,
         None if not np.isfinite(r.crisis_probability) else float(r.crisis_probability),
         None if not np.isfinite(r.stress_index) else float(r.stress_index),
         len(r.signals_firing), ",".join(r.signals_firing),
         None if pd.isna(r.pre_crisis) else int(r.pre_crisis), r.exclusion_reason)
        for r in scored.itertuples(index=False)
    ]
    s = oos.summary
    validations = [
        ("out_of_sample", "auroc", s.auroc),
        ("out_of_sample", "relative_usefulness", s.relative_usefulness),
        ("out_of_sample", "noise_to_signal", s.noise_to_signal),
        ("out_of_sample", "quarters_scored", float(s.n_scored)),
        ("out_of_sample", "pre_crisis_quarters", float(s.n_events)),
        ("train", "relative_usefulness", choice.relative_usefulness),
        ("train", "threshold", choice.threshold),
    ]
    run = ModelRun(
        indicator=INDICATOR,
        domain=DOMAIN,
        as_of_date=as_of,
        model_class="statsmodels.discrete.discrete_model.Logit",
        training_start=train["period_end_date"].min(),
        training_end=train["period_end_date"].max(),
        n_obs=int(len(train)),
        params={
            "indicators": list(INDICATORS),
            "coefficients": {k: float(v) for k, v in zip(("const", *INDICATORS), model.params, strict=True)},
            "standardisation": {"mean": list(map(float, model.mean)), "sd": list(map(float, model.sd))},
            "method": model.method,
            "threshold": float(choice.threshold),
            "signal_thresholds": thresholds,
            **windows,
            "theta": config.theta,
        },
        fit_stats={
            "n_events": int(model.n_events),
            "pseudo_r2": model.pseudo_r2,
            "crises": len(crises),
            "economies": int(panel["economy_code"].nunique()),
            "out_of_sample": {"scheme": s.scheme, "auroc": s.auroc, "relative_usefulness": s.relative_usefulness,
                              "n_scored": s.n_scored, "n_events": s.n_events},
        },
        data_hash=data_hash(pd.concat([panel.astype({"period_end_date": str}), crises.astype(str)], ignore_index=True)),
    )
    return IndicatorResult(run, values, alerts, [
        TableRows("warning.signal_thresholds",
                  ("indicator_name", "criterion", "direction", "threshold_value", "theta", "true_positives_count",
                   "false_positives_count", "false_negatives_count", "true_negatives_count", "noise_to_signal_ratio",
                   "relative_usefulness", "auroc"), signal_rows),
        TableRows("warning.systemic_risk_quarters",
                  ("economy_code", "period_end_date", "crisis_probability", "stress_index", "signals_firing_count",
                   "signals_firing", "pre_crisis", "exclusion_reason"), quarter_rows),
        TableRows("warning.model_validations", ("sample", "metric", "value"), validations),
    ])
