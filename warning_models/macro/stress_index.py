"""A composite stress index in [0, 1] per economy-quarter, in real time (a CISS-lite).

Like the ECB's CISS (Hollo, Kremer & Lo Duca 2012), each indicator is first mapped onto [0, 1] by its empirical
cumulative distribution function, recursively: the value of an economy at date t is replaced by

    F_t(x) = #{ y in H_t : y <= x } / |H_t|,

where the history H_t holds every non-missing value of the indicator dated on or before t (t itself included),
of all economies (``pool="all"``, the default: a common yardstick) or of the economy alone (``pool="economy"``).
Nothing dated after t enters, so later data never change an earlier value (no look-ahead). Ties count as
"at or below", so the largest value seen so far maps to 1. Values with fewer than ``min_history`` observations
in their history are left missing. An indicator where low values mean stress (``directions[name] = "below"``)
is negated first.

Unlike the CISS, the transformed indicators are not aggregated with their time-varying cross-correlations: the
index is their weighted average (equal weights unless ``weights`` are given), over the indicators present in
the row (weights renormalised), missing when none is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np
import pandas as pd

from warning_models.macro.crisis_windows import ECONOMY, PERIOD

INDEX = "stress_index"
DEFAULT_MIN_HISTORY = 1


def recursive_ecdf(
    values: np.ndarray, dates: np.ndarray, groups: np.ndarray | None = None, *, min_history: int = DEFAULT_MIN_HISTORY
) -> np.ndarray:
    """F_t(x) of each value against all values of its group dated on or before its own date (see the module
    docstring); NaN values stay NaN and do not count in any history."""
    values = np.asarray(values, dtype=np.float64)
    dates = np.asarray(dates)
    out = np.full(values.shape, np.nan)
    group_keys = np.zeros(len(values), dtype=np.int64) if groups is None else pd.factorize(groups)[0]
    for g in np.unique(group_keys):
        in_group = np.flatnonzero((group_keys == g) & ~np.isnan(values))
        if in_group.size == 0:
            continue
        order = in_group[np.argsort(dates[in_group], kind="stable")]
        d = dates[order]
        v = values[order]
        # Unique dates in order; for each, the history is every value up to and including that date.
        cut = np.flatnonzero(np.r_[d[1:] != d[:-1], True])  # last position of each date
        begin = 0
        for end in cut:
            hist = np.sort(v[: end + 1])
            n = hist.size
            if n >= min_history:
                out[order[begin : end + 1]] = np.searchsorted(hist, v[begin : end + 1], side="right") / n
            begin = end + 1
    return out


def stress_index(
    panel: pd.DataFrame,
    indicators: Sequence[str],
    *,
    weights: Mapping[str, float] | Sequence[float] | None = None,
    directions: Mapping[str, Literal["above", "below"]] | None = None,
    pool: Literal["all", "economy"] = "all",
    min_history: int = DEFAULT_MIN_HISTORY,
    economy_col: str = ECONOMY,
    date_col: str = PERIOD,
) -> pd.DataFrame:
    """``economy_code``, ``period_end_date``, one ``<indicator>_ecdf`` column per indicator, ``stress_index`` and
    ``n_indicators`` (how many entered the row), in the panel's row order and index."""
    indicators = list(indicators)
    if not indicators:
        raise ValueError("need at least one indicator")
    if pool not in ("all", "economy"):
        raise ValueError(f"pool must be 'all' or 'economy', got {pool!r}")
    for col in (economy_col, date_col, *indicators):
        if col not in panel.columns:
            raise ValueError(f"panel lacks the column {col!r}")
    if weights is None:
        w = np.ones(len(indicators))
    elif isinstance(weights, Mapping):
        w = np.array([float(weights.get(ind, 0.0)) for ind in indicators])
    else:
        w = np.asarray(weights, dtype=np.float64)
    if w.shape != (len(indicators),) or np.any(w < 0) or not w.sum() > 0:
        raise ValueError("weights must be one non-negative number per indicator, not all zero")
    directions = dict(directions or {})
    dates = pd.to_datetime(panel[date_col]).to_numpy()
    groups = panel[economy_col].astype(str).to_numpy() if pool == "economy" else None

    out = pd.DataFrame({economy_col: panel[economy_col], date_col: panel[date_col]}, index=panel.index)
    ranks = np.empty((len(panel), len(indicators)))
    for j, ind in enumerate(indicators):
        x = pd.to_numeric(panel[ind], errors="coerce").to_numpy(dtype=np.float64)
        direction = directions.get(ind, "above")
        if direction not in ("above", "below"):
            raise ValueError(f"direction of {ind!r} must be 'above' or 'below'")
        if direction == "below":
            x = -x
        ranks[:, j] = recursive_ecdf(x, dates, groups, min_history=min_history)
        out[f"{ind}_ecdf"] = ranks[:, j]
    present = ~np.isnan(ranks)
    wsum = present @ w
    with np.errstate(invalid="ignore", divide="ignore"):
        out[INDEX] = np.where(wsum > 0, np.nansum(np.where(present, ranks, 0.0) * w, axis=1) / wsum, np.nan)
    out["n_indicators"] = present.sum(axis=1)
    return out
