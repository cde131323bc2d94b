"""The loan days the credit PD model reads, kept sparse, and its point-in-time features.

Two reads cover everything the features and labels need, without shipping every quiet loan-day: the full rows of
the days features are wanted on (as_of, and the training snapshots), and, over the window before them, only the
days on which something happens (an instalment due or paid, days past due, default). A loan-day in neither read is
a quiet day: nothing due or paid, 0 days past due, not in default. A day's features are sums and maxima over the
events of its trailing windows, so day t's features use days <= t only. Memory and time follow the rows read (a
1M-loan book's day is about 1M snapshot rows and a few million events), never loans x days.

A large book's training sample is a fixed share of its loans (``sample_share``: the loans whose
``abs(hashtext(loan_id)) % 10000`` falls below it, the same loans every run of a deployment), so a refit reads and
fits a bounded number of loan-snapshots whatever the book's size.
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


SAMPLE_BUCKETS = 10_000


def _sample_clause(share: float) -> str:
    """A condition on loan_id keeping about ``share`` of the loans (all of them at 1), as SQL text."""
    if share >= 1:
        return "true"
    return f"abs(hashtext(loan_id)) % {SAMPLE_BUCKETS} < {max(1, int(share * SAMPLE_BUCKETS))}"


_SNAPSHOT_ROWS_SQL = """
    select loan_id, (performance_date - %s::date) as day_index, borrower_id, coalesce(segment, 'unknown') as segment,
           product, principal_amount, balance_amount, months_on_book, coalesce(days_past_due, 0) as days_past_due,
           coalesce(is_default, false) as is_default
    from marts.fct_loan_days
    where performance_date = any(%s::date[]) and {sample}
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
    "is_default": "object",
}
# Instalment days (something due or paid) and delinquent days (days past due, default), each read over its own
# window; the partial indexes of fct_loan_days (dbt_project/models/marts/credit/_marts__credit.yml) find them.
_INSTALMENT_ROWS_SQL = """
    select loan_id, (performance_date - %s::date) as day_index, due_amount, paid_amount
    from marts.fct_loan_days
    where performance_date between %s and %s and (due_amount <> 0 or paid_amount <> 0) and {sample}
"""
_INSTALMENT_ROWS_TYPES = {"loan_id": "str", "day_index": "int64", "due_amount": "float64", "paid_amount": "float64"}
_DELINQUENT_ROWS_SQL = """
    select loan_id, (performance_date - %s::date) as day_index, days_past_due, coalesce(is_default, false) as is_default
    from marts.fct_loan_days
    where performance_date between %s and %s and days_past_due > 0 and {sample}
"""
_DELINQUENT_ROWS_TYPES = {"loan_id": "str", "day_index": "int64", "days_past_due": "float64", "is_default": "object"}


@dataclass(frozen=True)
class Rows:
    """Some loan-day rows: each row's day (index from the panel's start) and loan (index into loan_ids)."""

    day: np.ndarray
    loan: np.ndarray
    columns: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.day)

    def between(self, first: int, last: int) -> "Rows":
        """The rows of days first..last (the rows are sorted by day)."""
        lo, hi = np.searchsorted(self.day, [first, last + 1])
        return Rows(self.day[lo:hi], self.loan[lo:hi], {k: v[lo:hi] for k, v in self.columns.items()})


@dataclass(frozen=True)
class LoanPanel:
    """The loan days read for some days (``snapshots``: every loan on book those days) and the events of the
    window before them (``instalments``: due / paid; ``delinquent``: days past due, default). Day 0 is ``start``."""

    start: dt.date
    loan_ids: np.ndarray  # (L,) str, sorted
    borrower_id: np.ndarray  # (L,) str, from the loan's latest snapshot row
    segment: np.ndarray  # (L,) str, the borrower's latest segment ('unknown' until its batch passes)
    product: np.ndarray  # (L,) str, the loan's latest product
    principal: np.ndarray  # (L,) the loan's latest principal
    snapshots: Rows  # balance_amount, months_on_book, days_past_due, is_default
    instalments: Rows  # due_amount, paid_amount
    delinquent: Rows  # days_past_due, is_default

    def day(self, d: dt.date) -> int:
        return (d - self.start).days

    def snapshot(self, day: int) -> Rows:
        return self.snapshots.between(day, day)


def _rows(frame: pd.DataFrame, loan_ids: pd.Index, columns: dict[str, str]) -> Rows:
    order = np.argsort(frame["day_index"].to_numpy(dtype=np.int64), kind="stable")
    frame = frame.iloc[order]
    converted = {}
    for name, kind in columns.items():
        values = frame[name].to_numpy(dtype=object) == True if kind == "bool" else frame[name].to_numpy(dtype=kind)  # noqa: E712
        converted[name] = np.asarray(values)
    return Rows(
        frame["day_index"].to_numpy(dtype=np.int64),
        loan_ids.get_indexer(frame["loan_id"]).astype(np.int64),
        converted,
    )


def load_panel(
    conn: psycopg2.extensions.connection,
    start: dt.date,
    end: dt.date,
    snapshot_dates: list[dt.date],
    windows: "FeatureWindows",
    *,
    delinquent_from: dt.date | None = None,
    sample_share: float = 1.0,
) -> tuple[LoanPanel, int]:
    """Read the snapshot days' rows, the instalment days in [start, end] and the delinquent days in
    [delinquent_from (default: the first snapshot's max-dpd window), end]; the panel and the rows read."""
    sample = _sample_clause(sample_share)
    first_dpd = delinquent_from or min(snapshot_dates) - dt.timedelta(days=windows.dpd_window_days - 1)
    snap = read_frame_by_copy(conn, _SNAPSHOT_ROWS_SQL.format(sample=sample), (start, snapshot_dates), _SNAPSHOT_ROWS_TYPES)
    instalments = read_frame_by_copy(
        conn, _INSTALMENT_ROWS_SQL.format(sample=sample), (start, start, end), _INSTALMENT_ROWS_TYPES
    )
    delinquent = read_frame_by_copy(
        conn, _DELINQUENT_ROWS_SQL.format(sample=sample), (start, max(first_dpd, start), end), _DELINQUENT_ROWS_TYPES,
        bool_columns=("is_default",),
    )
    snap["is_default"] = snap["is_default"].astype(str).isin(["t", "True", "true"])
    all_ids = np.concatenate([f["loan_id"].to_numpy(object) for f in (snap, instalments, delinquent)])
    loan_ids = pd.Index(pd.unique(all_ids)).sort_values()
    n_loans = len(loan_ids)
    # each loan's latest borrower, segment, product and principal: its snapshot row with the highest day
    codes = loan_ids.get_indexer(snap["loan_id"])
    order = np.lexsort((snap["day_index"].to_numpy(dtype=np.int64), codes))
    last = order[np.r_[codes[order][1:] != codes[order][:-1], True]] if len(order) else order
    borrower_id = np.full(n_loans, "", dtype=object)
    segment = np.full(n_loans, "unknown", dtype=object)
    product = np.full(n_loans, "", dtype=object)
    principal = np.full(n_loans, np.nan)
    borrower_id[codes[last]] = snap["borrower_id"].to_numpy(dtype=object)[last]
    segment[codes[last]] = snap["segment"].to_numpy(dtype=object)[last]
    product[codes[last]] = snap["product"].to_numpy(dtype=object)[last]
    principal[codes[last]] = snap["principal_amount"].to_numpy(dtype=np.float64, na_value=np.nan)[last]
    panel = LoanPanel(
        start=start,
        loan_ids=np.asarray(loan_ids, dtype=object),
        borrower_id=borrower_id,
        segment=segment,
        product=product,
        principal=principal,
        snapshots=_rows(snap, loan_ids, {
            "balance_amount": "float64", "months_on_book": "float64", "days_past_due": "float64", "is_default": "bool",
        }),
        instalments=_rows(instalments, loan_ids, {"due_amount": "float64", "paid_amount": "float64"}),
        delinquent=_rows(delinquent, loan_ids, {"days_past_due": "float64", "is_default": "bool"}),
    )
    return panel, len(snap) + len(instalments) + len(delinquent)


def features_on(panel: LoanPanel, day: int, loans: np.ndarray, windows: FeatureWindows) -> dict[str, np.ndarray]:
    """Every numeric feature of some loans with a snapshot row on ``day``, point-in-time: days <= day only."""
    n = len(panel.loan_ids)
    snap = panel.snapshot(day)
    at = np.full(n, -1, dtype=np.int64)
    at[snap.loan] = np.arange(len(snap))
    rows = at[loans]
    if (rows < 0).any():
        raise ValueError("features_on: every loan needs its snapshot row of the day")
    dpd_today = np.maximum(np.nan_to_num(snap.columns["days_past_due"][rows]), 0.0)
    # the trailing windows, as per-loan sums and maxima of the events in them
    late = panel.delinquent.between(day - windows.dpd_window_days + 1, day)
    max_dpd = np.zeros(n)
    np.maximum.at(max_dpd, late.loan, np.maximum(np.nan_to_num(late.columns["days_past_due"]), 0.0))
    paid_window = panel.instalments.between(day - windows.payment_window_days + 1, day)
    due = paid_window.columns["due_amount"]
    paid = paid_window.columns["paid_amount"]
    due_sum = np.bincount(paid_window.loan, weights=due, minlength=n)[loans]
    paid_sum = np.bincount(paid_window.loan, weights=paid, minlength=n)[loans]
    missed = ((due > 0) & (paid < windows.missed_paid_share * due)).astype(np.float64)
    missed_sum = np.bincount(paid_window.loan, weights=missed, minlength=n)[loans]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(due_sum > 0, paid_sum / due_sum, 1.0)
        principal = panel.principal[loans]
        balance_ratio = np.where(principal > 0, snap.columns["balance_amount"][rows] / principal, np.nan)
    return {
        "days_past_due": dpd_today,
        "max_dpd_30d": np.maximum(max_dpd[loans], dpd_today),
        "paid_due_ratio_90d": np.clip(ratio, 0.0, windows.paid_ratio_cap),
        "missed_instalments_90d": missed_sum,
        "balance_principal_ratio": balance_ratio,
        "months_on_book": snap.columns["months_on_book"][rows],
    }


def on_book(panel: LoanPanel, day: int) -> tuple[np.ndarray, np.ndarray]:
    """The loans on book on ``day`` with a balance (panel indices) and which of them are live (not in default)."""
    snap = panel.snapshot(day)
    keep = np.nan_to_num(snap.columns["balance_amount"]) > 0
    loans = snap.loan[keep]
    order = np.argsort(loans)
    return loans[order], ~snap.columns["is_default"][keep][order]


def defaulted_between(panel: LoanPanel, first: int, last: int) -> np.ndarray:
    """The loans (panel indices) in default on some day of first..last."""
    rows = panel.delinquent.between(first, last)
    return np.unique(rows.loan[rows.columns["is_default"]])
