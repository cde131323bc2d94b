"""Access: one risk score per user-day against the user's own and their peer group's baselines (UEBA style).

The work is in ``warning_models.access``: ``features`` reads the marts as of the day, ``baselines`` fits the
count models (user-day Poisson / NB GLM with day-of-week effects, user-hour GLM with hour-of-day effects,
peer-group GLM, robust and STL baselines of rows read), ``score`` turns the signals into a 0-100 score and
alerts within a daily budget, each alert naming the signals that moved, by how much, against which baseline.
This module publishes it: the model run, one value per scored user, the alerts and the per-signal rows
(``warning.access_signal_days``).
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import psycopg2.extensions

from warning_models.access import baselines
from warning_models.access.features import read_window
from warning_models.access.score import SIGNAL_COLUMNS, SIGNAL_TABLE, AccessScoreConfig, Signal, score_window
from warning_models.indicators.base import Domain, IndicatorResult, ModelRun, TableRows, data_hash

INDICATOR = "access_activity_baseline"
DOMAIN = Domain.ACCESS

AccessBaselineConfig = AccessScoreConfig  # the indicator's settings (EWS_ACCESS_*)
upper_tail_p = baselines.upper_tail_p
__all__ = ["INDICATOR", "DOMAIN", "AccessBaselineConfig", "Signal", "compute", "fit_baseline", "upper_tail_p"]


def fit_baseline(frame: pd.DataFrame, config: AccessScoreConfig) -> baselines.PoissonBaseline:
    """The user-day events GLM on baseline rows (``user_id``, ``dow``, ``events_count``), trimmed once."""
    return baselines.fit_user_day_glm(
        frame, trim_p_value=config.trim_p_value, max_iter=config.backfit_max_iter, tol=config.backfit_tol,
        t_crit=config.overdispersion_t,
    )


def compute(
    conn: psycopg2.extensions.connection, as_of: dt.date, config: AccessScoreConfig | None = None
) -> IndicatorResult:
    """Risk score (0-100) of each user's activity on ``as_of`` against their trailing baselines."""
    config = config or AccessScoreConfig.from_env()
    window = read_window(conn, as_of, config.baseline_days)
    scored = score_window(window, config)
    run = ModelRun(
        indicator=INDICATOR,
        domain=DOMAIN,
        as_of_date=as_of,
        model_class=(
            "statsmodels GLM: user-day Poisson/NB2 (user + day of week), user-hour Poisson/NB2 (hour of day + "
            "day of week), peer-group Poisson (group + day of week); STL(robust) where seasonal"
        ),
        training_start=scored.training_start,
        training_end=scored.training_end,
        n_obs=scored.n_obs,
        params=scored.params,
        fit_stats=scored.fit_stats,
        data_hash=data_hash(scored.baseline.drop(columns=["dow"])),
    )
    table = TableRows(SIGNAL_TABLE, SIGNAL_COLUMNS, scored.signal_rows)
    return IndicatorResult(run, scored.values, scored.alerts, [table])
