"""The loan-day window of the credit PD model as dense (day x loan) matrices, and its point-in-time features.

Two reads cover everything the features and labels need, without shipping every quiet loan-day: the full rows
of the snapshot days and as_of (live loans, balances, months on book), and, over the whole window, only the
days on which something happens (an instalment due or paid, days past due, default). A loan-day in neither
read is a quiet day: nothing due or paid, 0 days past due, not in default. Trailing-window features are
cumulative-sum differences, so day j's features use days <= j only.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
import psycopg2.extensions

from warning_models.indicators.base import read_frame_by_copy


@dataclass(frozen=True)
class FeatureWindows:
    dpd_window_days: int = 30  # trailing window of the max days-past-due feature
    payment_window_days: int = 90  # trailing window of the paid/due ratio and missed-instalment count
    missed_paid_share: float = 0.5  # an instalment counts as missed when paid < this share of due
    paid_ratio_cap: float = 2.0  # paid/due is clipped to [0, cap] (catch-up payments)

    @property
    def lookback_days(self) -> int:
        return max(self.payment_window_days, self.dpd_window_days) - 1


# Numeric features, in model order, with the words used in explanations ({dpd} / {pay}: window lengths).
FEATURES: dict[str, str] = {
    "days_past_due": "days past due",
    "max_dpd_30d": "max days past due over {dpd} days",
    "paid_due_ratio_90d": "paid/due over {pay} days",
    "missed_instalments_90d": "missed instalments over {pay} days",
    "balance_principal_ratio": "balance/principal",
    "months_on_book": "months on book",
}
CATEGORICAL = ("product",)


def feature_label(name: str, windows: FeatureWindows) -> str:
    return FEATURES.get(name, name).format(dpd=windows.dpd_window_days, pay=windows.payment_window_days)


_SNAPSHOT_ROWS_SQL = """
    select loan_id, (performance_date - %s::date) as day_index, borrower_id, coalesce(segment, 'unknown') as segment,
           product, principal_amount, balance_amount,
           months_on_book, coalesce(days_past_due, 0) as days_past_due
    from marts.fct_loan_days
    where performance_date = any(%s::date[])
"""
_SNAPSHOT_ROWS_TYPES = {
    "loan_id": "str",
    "day_index": "int64",
    "borrower_id": "str",
    "segment": "str",
    "product": "str",
    "principal_amount": "float64",
    "balance_amount": "float64",
    "months_on_book": "float64",
    "days_past_due": "float64",
}
_EVENT_ROWS_SQL = """
    select loan_id, (performance_date - %s::date) as day_index, coalesce(days_past_due, 0) as days_past_due,
           coalesce(is_default, false) as is_default, coalesce(due_amount, 0) as due_amount,
           coalesce(paid_amount, 0) as paid_amount
    from marts.fct_loan_days
    where performance_date between %s and %s
      and (due_amount <> 0 or paid_amount <> 0 or days_past_due > 0 or is_default)
"""
_EVENT_ROWS_TYPES = {
    "loan_id": "str",
    "day_index": "int64",
    "days_past_due": "float64",
    "is_default": "object",
    "due_amount": "float64",
    "paid_amount": "float64",
}


@dataclass(frozen=True)
class LoanPanel:
    """The loan-day window as dense (day x loan) matrices; day 0 is ``start``.

    ``present``, ``balance`` and ``months_on_book`` are filled on the snapshot days and as_of only; ``dpd``,
    ``due``, ``paid`` and ``is_default`` on every day (0 / False on quiet days).
    """

    start: dt.date
    loan_ids: np.ndarray  # (L,) str
    borrower_id: np.ndarray  # (L,) str
    segment: np.ndarray  # (L,) str, the borrower's latest segment ('unknown' until its batch passes)
    product: np.ndarray  # (L,) str, the loan's latest product
    principal: np.ndarray  # (L,) the loan's latest principal
    present: np.ndarray  # (D, L) bool: the loan has a row that (snapshot) day
    dpd: np.ndarray
    due: np.ndarray
    paid: np.ndarray
    balance: np.ndarray
    months_on_book: np.ndarray
    is_default: np.ndarray  # (D, L) bool

    def day(self, d: dt.date) -> int:
        return (d - self.start).days


def load_panel(
    conn: psycopg2.extensions.connection, start: dt.date, end: dt.date, snapshot_dates: list[dt.date]
) -> tuple[LoanPanel, int]:
    """Read the loan days in [start, end] (two COPY reads) and lay them out as day x loan matrices."""
    snap = read_frame_by_copy(conn, _SNAPSHOT_ROWS_SQL, (start, snapshot_dates), _SNAPSHOT_ROWS_TYPES)
    events = read_frame_by_copy(
        conn, _EVENT_ROWS_SQL, (start, start, end), _EVENT_ROWS_TYPES, bool_columns=("is_default",)
    )
    n_days = (end - start).days + 1
    all_ids = np.concatenate([snap["loan_id"].to_numpy(object), events["loan_id"].to_numpy(object)])
    loan_ids = pd.Index(pd.unique(all_ids)).sort_values()
    n_loans = len(loan_ids)
    s_rows, s_codes = snap["day_index"].to_numpy(dtype=np.int64), loan_ids.get_indexer(snap["loan_id"])
    e_rows, e_codes = events["day_index"].to_numpy(dtype=np.int64), loan_ids.get_indexer(events["loan_id"])

    def matrix(fill: float, *parts: tuple[np.ndarray, np.ndarray, pd.Series]) -> np.ndarray:
        out = np.full((n_days, n_loans), fill, dtype=np.float64)
        for rows, codes, column in parts:
            out[rows, codes] = column.to_numpy(dtype=np.float64, na_value=fill)
        return out

    present = np.zeros((n_days, n_loans), dtype=bool)
    present[s_rows, s_codes] = True
    is_default = np.zeros((n_days, n_loans), dtype=bool)
    is_default[e_rows, e_codes] = events["is_default"].to_numpy(dtype=object) == True  # noqa: E712
    # each loan's latest product and principal: its snapshot row with the highest day
    order = np.lexsort((s_rows, s_codes))
    last = order[np.r_[s_codes[order][1:] != s_codes[order][:-1], True]] if len(order) else order
    borrower_id = np.full(n_loans, "", dtype=object)
    segment = np.full(n_loans, "unknown", dtype=object)
    borrower_id[s_codes[last]] = snap["borrower_id"].to_numpy(dtype=object)[last]
    segment[s_codes[last]] = snap["segment"].to_numpy(dtype=object)[last]
    product = np.full(n_loans, "", dtype=object)
    principal = np.full(n_loans, np.nan)
    product[s_codes[last]] = snap["product"].to_numpy(dtype=object)[last]
    principal[s_codes[last]] = snap["principal_amount"].to_numpy(dtype=np.float64, na_value=np.nan)[last]
    panel = LoanPanel(
        start=start,
        loan_ids=np.asarray(loan_ids, dtype=object),
        borrower_id=borrower_id,
        segment=segment,
        product=product,
        principal=principal,
        present=present,
        dpd=matrix(0.0, (s_rows, s_codes, snap["days_past_due"]), (e_rows, e_codes, events["days_past_due"])),
        due=matrix(0.0, (e_rows, e_codes, events["due_amount"])),
        paid=matrix(0.0, (e_rows, e_codes, events["paid_amount"])),
        balance=matrix(np.nan, (s_rows, s_codes, snap["balance_amount"])),
        months_on_book=matrix(np.nan, (s_rows, s_codes, snap["months_on_book"])),
        is_default=is_default,
    )
    return panel, len(snap) + len(events)


def trailing_max(x: np.ndarray, window: int) -> np.ndarray:
    """Max over the trailing ``window`` days (the day itself included), along axis 0; ``x`` must be >= 0."""
    padded = np.vstack([np.zeros((window - 1, x.shape[1])), x])
    return np.lib.stride_tricks.sliding_window_view(padded, window, axis=0).max(axis=-1)


def trailing_sum(x: np.ndarray, window: int) -> np.ndarray:
    """Sum over the trailing ``window`` days (the day itself included), along axis 0."""
    cs = np.vstack([np.zeros((1, x.shape[1])), np.cumsum(x, axis=0)])
    upper = np.arange(1, x.shape[0] + 1)
    lower = np.maximum(upper - window, 0)
    return cs[upper] - cs[lower]


def features(panel: LoanPanel, config: FeatureWindows) -> dict[str, np.ndarray]:
    """Every numeric feature as a (day x loan) matrix, point-in-time: day j uses days <= j only."""
    dpd = np.maximum(np.nan_to_num(panel.dpd), 0.0)
    max_dpd = trailing_max(np.maximum(dpd, 0.0), config.dpd_window_days)
    due_sum = trailing_sum(panel.due, config.payment_window_days)
    paid_sum = trailing_sum(panel.paid, config.payment_window_days)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(due_sum > 0, paid_sum / due_sum, 1.0)
    ratio = np.clip(ratio, 0.0, config.paid_ratio_cap)
    missed = (panel.due > 0) & (panel.paid < config.missed_paid_share * panel.due)
    missed_sum = trailing_sum(missed.astype(np.float64), config.payment_window_days)
    with np.errstate(divide="ignore", invalid="ignore"):
        balance_ratio = np.where(panel.principal > 0, panel.balance / panel.principal, np.nan)
    return {
        "days_past_due": dpd,
        "max_dpd_30d": max_dpd,
        "paid_due_ratio_90d": ratio,
        "missed_instalments_90d": missed_sum,
        "balance_principal_ratio": balance_ratio,
        "months_on_book": panel.months_on_book,
    }


def live_mask(panel: LoanPanel) -> np.ndarray:
    """(day x loan) mask of loans on book, not in default and with a balance outstanding."""
    return panel.present & ~panel.is_default & (np.nan_to_num(panel.balance) > 0)
