"""Pre-crisis labels of a quarterly economy panel (the ECB / Lang 2018 early-warning convention).

Quarters are counted on the calendar: a date belongs to the quarter that contains it, and ``k = s - t`` is the
number of quarters from quarter ``t`` to the quarter ``s`` in which a crisis of the same economy starts. With
``horizon_min = h0`` and ``horizon_max = h1`` (defaults 5 and 12: a crisis one to three years ahead, the last
year before it left out) and ``post_crisis_quarters = p`` (default 6), every quarter of an economy is, for each
of its crises (start quarter ``s``, end quarter ``e``, both inclusive):

============================  ========================================  ==============================
quarter ``t``                 meaning                                   label
============================  ========================================  ==============================
``s - h1 <= t <= s - h0``     a crisis starts ``h0..h1`` quarters ahead  ``pre_crisis = 1``, usable
``s - h0 < t < s``            the ``h0 - 1`` quarters just before s:     excluded, ``"too_close"``
                              too late to act on (none when h0 = 1)
``s <= t <= e``               in the crisis                              excluded, ``"in_crisis"``
``e < t <= e + p``            post-crisis adjustment (Bussiere &         excluded, ``"post_crisis"``
                              Fratzscher 2006: the post-crisis bias)
``t >= s``, crisis ongoing    everything from the start on               excluded, ``"in_crisis"``
============================  ========================================  ==============================

Every other quarter is ``pre_crisis = 0`` and usable, if its outcome is known: the information date
``last_known_date`` (default: the panel's last ``period_end_date``) fixes what is known. Only crises that started
on or before it count, a crisis whose end lies after it is still ongoing, and a quarter whose whole window
``t + h0 .. t + h1`` has not ended by then (``t + h1`` later than the last complete quarter) has an unknown outcome
(excluded, ``"outcome_unknown"``) unless a known crisis already starts inside its window (then it is 1).
Quarters after the information date are unknown as well. When a quarter falls under several rules (crises
close together) the exclusions win, in the order in_crisis > post_crisis > too_close > pre-crisis (1) >
outcome_unknown > 0. Excluded quarters carry ``pre_crisis = <NA>``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

ECONOMY = "economy_code"
PERIOD = "period_end_date"
TARGET = "pre_crisis"
USABLE = "usable"
REASON = "exclusion_reason"

IN_CRISIS = "in_crisis"
POST_CRISIS = "post_crisis"
TOO_CLOSE = "too_close"
OUTCOME_UNKNOWN = "outcome_unknown"

DEFAULT_HORIZON_MIN = 5
DEFAULT_HORIZON_MAX = 12
DEFAULT_POST_CRISIS_QUARTERS = 6


@dataclass(frozen=True)
class Crisis:
    """One systemic crisis of an economy; ``end`` None = still ongoing."""

    economy_code: str
    start: dt.date
    end: dt.date | None = None


def _to_date(value: Any) -> dt.date | None:
    if value is None:
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return pd.Timestamp(value).date()


def as_crises(crises: pd.DataFrame | Iterable[Any]) -> list[Crisis]:
    """Crises from a DataFrame (``economy_code``, ``crisis_start_date``, ``crisis_end_date``), ``Crisis``
    objects or ``(economy_code, start, end)`` tuples; a missing end (None, NaN, NaT) means ongoing."""
    if isinstance(crises, pd.DataFrame):
        missing = {ECONOMY, "crisis_start_date"} - set(crises.columns)
        if missing:
            raise ValueError(f"crises lack the columns {sorted(missing)}")
        ends = crises["crisis_end_date"] if "crisis_end_date" in crises.columns else [None] * len(crises)
        rows: Iterable[Any] = zip(crises[ECONOMY], crises["crisis_start_date"], ends, strict=True)
    else:
        rows = crises
    out = []
    for row in rows:
        if isinstance(row, Crisis):
            code, start, end = row.economy_code, row.start, row.end
        else:
            code, start, *rest = row
            end = rest[0] if rest else None
        start_d, end_d = _to_date(start), _to_date(end)
        if start_d is None:
            raise ValueError(f"crisis of {code!r} has no start date")
        if end_d is not None and end_d < start_d:
            raise ValueError(f"crisis of {code!r} ends ({end_d}) before it starts ({start_d})")
        out.append(Crisis(str(code), start_d, end_d))
    return out


def quarter_index(dates: Any) -> np.ndarray:
    """Calendar quarter number (year * 4 + quarter - 1) of each date: consecutive quarters differ by 1."""
    if isinstance(dates, dt.date):  # pd.Timestamp is a dt.date too
        return np.array([dates.year * 4 + (dates.month - 1) // 3], dtype=np.int64)
    if isinstance(dates, (str, np.datetime64)):
        dates = [dates]
    ts = pd.DatetimeIndex(pd.to_datetime(pd.Series(list(dates) if not isinstance(dates, pd.Series) else dates)))
    return (ts.year * 4 + (ts.month - 1) // 3).to_numpy(dtype=np.int64)


def last_complete_quarter(date: Any) -> int:
    """The quarter number of the last quarter that has ended on ``date`` (its own quarter if ``date`` is its
    last day)."""
    ts = pd.Timestamp(date)
    q = int(quarter_index(ts)[0])
    return q if (ts + pd.Timedelta(days=1)).quarter != ts.quarter else q - 1


def label_quarters(
    panel: pd.DataFrame,
    crises: pd.DataFrame | Iterable[Any],
    *,
    horizon_min: int = DEFAULT_HORIZON_MIN,
    horizon_max: int = DEFAULT_HORIZON_MAX,
    post_crisis_quarters: int = DEFAULT_POST_CRISIS_QUARTERS,
    last_known_date: Any = None,
    economy_col: str = ECONOMY,
    date_col: str = PERIOD,
) -> pd.DataFrame:
    """A copy of ``panel`` with ``pre_crisis`` (Int64, <NA> when excluded), ``usable`` (bool) and
    ``exclusion_reason`` (None or one of in_crisis / post_crisis / too_close / outcome_unknown); see the module
    docstring for the rules. Row order and index are kept."""
    if not 1 <= horizon_min <= horizon_max:
        raise ValueError(f"need 1 <= horizon_min <= horizon_max, got {horizon_min}..{horizon_max}")
    if post_crisis_quarters < 0:
        raise ValueError("post_crisis_quarters must be >= 0")
    for col in (economy_col, date_col):
        if col not in panel.columns:
            raise ValueError(f"panel lacks the column {col!r}")
    out = panel.copy()
    n = len(out)
    codes = out[economy_col].astype(str).to_numpy()
    q = quarter_index(out[date_col]) if n else np.zeros(0, dtype=np.int64)
    if n and pd.DataFrame({"c": codes, "q": q}).duplicated().any():
        raise ValueError("panel has more than one row for an economy-quarter")

    if last_known_date is None:
        info_date = pd.Timestamp(out[date_col].max()).date() if n else None
    else:
        info_date = _to_date(last_known_date)
    info_q = last_complete_quarter(info_date) if info_date is not None else 0

    # Priority flags; the highest applicable rule wins.
    in_crisis = np.zeros(n, dtype=bool)
    post = np.zeros(n, dtype=bool)
    close = np.zeros(n, dtype=bool)
    pre = np.zeros(n, dtype=bool)
    for c in as_crises(crises):
        if info_date is not None and c.start > info_date:
            continue  # not known yet
        rows = codes == c.economy_code
        if not rows.any():
            continue
        s = int(quarter_index(c.start)[0])
        ongoing = c.end is None or (info_date is not None and c.end > info_date)
        t = q[rows]
        k = s - t
        pre[rows] |= (k >= horizon_min) & (k <= horizon_max)
        close[rows] |= (k > 0) & (k < horizon_min)
        if ongoing:
            in_crisis[rows] |= t >= s
        else:
            e = int(quarter_index(c.end)[0])
            in_crisis[rows] |= (t >= s) & (t <= e)
            post[rows] |= (t > e) & (t <= e + post_crisis_quarters)

    unknown = q + horizon_max > info_q  # the window has not fully passed (includes quarters after info_q)
    unknown |= q > info_q
    reason = np.full(n, None, dtype=object)
    reason[unknown & ~pre] = OUTCOME_UNKNOWN
    reason[close] = TOO_CLOSE
    reason[post] = POST_CRISIS
    reason[in_crisis] = IN_CRISIS
    # A quarter after the information date is never known, whatever a known crisis says about its window.
    future = (q > info_q) & pd.isna(reason)
    reason[future] = OUTCOME_UNKNOWN

    usable = pd.isna(reason)
    target = pd.array(np.where(pre, 1, 0), dtype="Int64")
    target[~usable] = pd.NA
    out[TARGET] = target
    out[USABLE] = usable
    out[REASON] = pd.Series(reason, index=out.index, dtype=object)
    return out
