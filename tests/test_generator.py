"""The synthetic bank generator: determinism, the landing contract, internal consistency and ground truth."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from warning_models.contract import SOURCES, ColumnType, expected_sources, is_trading_day, landing_path
from warning_models.generator import BankConfig, GenerationSummary, generate_bank

SMALL = BankConfig(days=40, n_borrowers=150, n_instruments=8, n_users=12, seed=7)
MEDIUM = BankConfig(days=110, n_borrowers=400, n_instruments=8, n_users=12, seed=11)  # sees cures and defaults


# ----------------------------------------------------------------------------- helpers
def read_rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        return header, [dict(zip(header, row)) for row in reader]


def digests(root: Path) -> dict[str, str]:
    files = sorted(p for p in root.rglob("*") if p.is_file())
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


def parse(value: str, ctype: ColumnType) -> object:
    if ctype is ColumnType.TEXT:
        return value
    if ctype is ColumnType.INTEGER:
        assert value.lstrip("-").isdigit(), value
        return int(value)
    if ctype is ColumnType.NUMERIC:
        return Decimal(value)
    if ctype is ColumnType.DATE:
        return dt.date.fromisoformat(value)
    stamp = dt.datetime.fromisoformat(value)
    assert stamp.utcoffset() == dt.timedelta(0), value
    return stamp


def one_sided_gap(y: np.ndarray, lam: float = 400_000.0) -> float:
    """Independent one-sided HP gap at the last observation (banded normal equations, dense solve)."""
    n = len(y)
    a = np.eye(n)
    for i in range(n - 2):
        v = np.zeros(n)
        v[i : i + 3] = (1.0, -2.0, 1.0)
        a += lam * np.outer(v, v)
    return float(y[-1] - np.linalg.solve(a, y)[-1])


class Bank:
    """A generated bank, read back from disk."""

    def __init__(self, config: BankConfig, root: Path, summary: GenerationSummary):
        self.config, self.root, self.summary = config, root, summary
        self.landing = root / "landing"
        self.truth = json.loads((root / "truth.json").read_text(encoding="utf-8"))
        self.dates = [config.start_date + dt.timedelta(days=i) for i in range(config.days)]

    def rows(self, source: str, day: dt.date) -> list[dict[str, str]] | None:
        path = landing_path(self.landing, source, day)
        return read_rows(path)[1] if path.exists() else None

    def episodes(self, domain: str) -> list[dict]:
        return [e for e in self.truth["episodes"] if e["domain"] == domain]

    def macro(self) -> dict[str, dict[dt.date, float]]:
        series: dict[str, dict[dt.date, float]] = defaultdict(dict)
        for path in sorted((self.landing / "macro_series").glob("*.csv")):
            for r in read_rows(path)[1]:
                series[r["series_id"]][dt.date.fromisoformat(r["period_end_date"])] = float(r["value"])
        return series

    def credit_to_gdp(self, economy: str) -> tuple[list[dt.date], np.ndarray]:
        s = self.macro()
        credit, gdp = s[f"{economy}.CREDIT_PRIVATE"], s[f"{economy}.GDP_NOMINAL"]
        quarters = sorted(gdp)
        g = np.array([gdp[q] for q in quarters])
        gdp4 = np.convolve(g, np.ones(4), mode="valid")
        return quarters[3:], np.array([credit[q] for q in quarters[3:]]) / gdp4 * 100


def build(config: BankConfig, root: Path) -> Bank:
    summary = generate_bank(config, root / "landing", root / "truth.json", progress=False)
    return Bank(config, root, summary)


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Bank:
    return build(SMALL, tmp_path_factory.mktemp("small"))


@pytest.fixture(scope="module")
def medium(tmp_path_factory: pytest.TempPathFactory) -> Bank:
    return build(MEDIUM, tmp_path_factory.mktemp("medium"))


@pytest.fixture(scope="module", params=["small", "medium"])
def credit_bank(request: pytest.FixtureRequest) -> Bank:
    return request.getfixturevalue(request.param)


@pytest.fixture(scope="module")
def default_bank(tmp_path_factory: pytest.TempPathFactory) -> Bank:
    return build(BankConfig(), tmp_path_factory.mktemp("default"))


# -------------------------------------------------------------------------- determinism
def test_same_config_gives_identical_files_and_other_seed_differs(small: Bank, tmp_path: Path) -> None:
    again = build(SMALL, tmp_path / "again")
    assert digests(again.root) == digests(small.root)
    other = build(BankConfig(days=SMALL.days, n_borrowers=150, n_instruments=8, n_users=12, seed=8), tmp_path / "other")
    a, b = digests(small.root), digests(other.root)
    assert a.keys() == b.keys()
    assert sum(a[k] != b[k] for k in a) > len(a) // 2


def test_rerun_overwrites_existing_files(small: Bank, tmp_path: Path) -> None:
    root = tmp_path / "rerun"
    build(SMALL, root)
    victim = landing_path(root / "landing", "loan_performance", SMALL.start_date + dt.timedelta(days=3))
    victim.write_text("garbage\n", encoding="utf-8")
    build(SMALL, root)
    assert digests(root) == digests(small.root)


def test_summary_counts_match_files(small: Bank) -> None:
    s = small.summary
    for source in SOURCES:
        files = sorted((small.landing / source).glob("*.csv"))
        assert s.files_written[source] == len(files)
        assert s.rows_written[source] == sum(len(read_rows(f)[1]) for f in files)
    assert s.episodes == {d: len(small.episodes(d)) for d in ("access", "credit", "macro", "market")}
    assert s.landing_dir == small.landing and s.truth_path == small.root / "truth.json"


# ----------------------------------------------------------------------------- contract
def test_files_follow_the_contract(small: Bank) -> None:
    first = small.dates[0]
    for day in small.dates:
        for source in expected_sources(day):
            assert landing_path(small.landing, source, day).exists(), (source, day)
        for name, src in SOURCES.items():
            path = landing_path(small.landing, name, day)
            if not path.exists():
                continue
            raw = path.read_bytes()
            assert b"\r" not in raw and raw.endswith(b"\n")
            raw.decode("utf-8")
            header, rows = read_rows(path)
            assert tuple(header) == src.column_names
            if not src.may_be_empty:
                assert rows, (name, day)
            keys = [tuple(r[k] for k in src.key) for r in rows]
            assert len(set(keys)) == len(keys), (name, day)
            for r in rows:
                values = {}
                for col in src.columns:
                    if r[col.name] == "":
                        assert col.nullable, (name, day, col.name)
                        continue
                    values[col.name] = parse(r[col.name], col.type)
                tie = values[src.date_column]
                if name == "access_events":
                    assert tie.astimezone(dt.timezone.utc).date() == day
                elif name == "macro_series" or (day == first and name in ("borrowers", "loans")):
                    assert tie <= day
                else:
                    assert tie == day, (name, day, r)


def test_market_files_exactly_on_trading_days(small: Bank) -> None:
    instruments = None
    for day in small.dates:
        rows = small.rows("market_prices", day)
        assert (rows is not None) == is_trading_day(day), day
        if rows:
            ids = [r["instrument_id"] for r in rows]
            assert len(ids) == SMALL.n_instruments and all(Decimal(r["close_price"]) > 0 for r in rows)
            instruments = instruments or ids
            assert ids == instruments
    assert any(i.startswith("EQ") for i in instruments) and any(i.startswith("BD") for i in instruments)


def test_macro_published_history_then_quarterly(small: Bank) -> None:
    files = sorted(p.stem for p in (small.landing / "macro_series").glob("*.csv"))
    assert files[0] == SMALL.start_date.isoformat()
    first = small.rows("macro_series", SMALL.start_date)
    assert min(r["period_end_date"] for r in first) == "1995-03-31"
    lag = dt.timedelta(days=45)
    for r in first:
        assert dt.date.fromisoformat(r["period_end_date"]) + lag <= SMALL.start_date
    for name in files[1:]:
        day = dt.date.fromisoformat(name)
        rows = small.rows("macro_series", day)
        assert {dt.date.fromisoformat(r["period_end_date"]) + lag for r in rows} == {day}
        assert len(rows) == 2 * SMALL.n_economies


# ---------------------------------------------------------------------------- credit
_CREDIT_TABLES: dict[Path, tuple[dict, dict, dict, dict]] = {}


def credit_tables(bank: Bank) -> tuple[dict, dict, dict, dict]:
    """Borrowers and loans by id; performance and repayments by business date, then loan id (cached)."""
    if bank.root not in _CREDIT_TABLES:
        _CREDIT_TABLES[bank.root] = _read_credit(bank)
    return _CREDIT_TABLES[bank.root]


def _read_credit(bank: Bank) -> tuple[dict, dict, dict, dict]:
    loans, borrowers = {}, {}
    perf: dict[dt.date, dict[str, tuple[Decimal, int]]] = {}
    pays: dict[dt.date, dict[str, tuple[Decimal, Decimal]]] = {}
    for day in bank.dates:
        for r in bank.rows("borrowers", day):
            borrowers[r["borrower_id"]] = r
        for r in bank.rows("loans", day):
            assert r["borrower_id"] in borrowers
            loans[r["loan_id"]] = r
        perf[day] = {
            r["loan_id"]: (Decimal(r["balance_amount"]), int(r["days_past_due"]))
            for r in bank.rows("loan_performance", day)
        }
        pays[day] = {
            r["loan_id"]: (Decimal(r["due_amount"]), Decimal(r["paid_amount"])) for r in bank.rows("repayments", day)
        }
        for r in bank.rows("repayments", day):
            assert r["repayment_id"] == f"{r['loan_id']}-{day:%Y%m}"
    return borrowers, loans, perf, pays


def test_performance_covers_every_live_loan(credit_bank: Bank) -> None:
    _, loans, perf, pays = credit_tables(credit_bank)
    seen: set[str] = set()
    prev: dict[str, tuple[Decimal, int]] = {}
    for day in credit_bank.dates:
        new = {r["loan_id"] for r in credit_bank.rows("loans", day)}
        seen |= new
        today = perf[day]
        assert set(today) <= seen and new <= set(today)
        assert set(pays[day]) <= set(today)
        for loan_id, (balance, dpd) in prev.items():
            if loan_id not in today:  # dropped out: only after maturity, fully paid
                assert balance == 0 and dpd == 0, (loan_id, day)
        prev = today
    assert set(perf[credit_bank.dates[0]]) == {r["loan_id"] for r in credit_bank.rows("loans", credit_bank.dates[0])}


def test_balances_and_days_past_due_agree_with_repayments(credit_bank: Bank) -> None:
    _, loans, perf, pays = credit_tables(credit_bank)
    start = credit_bank.dates[0]
    for prev_day, day in zip(credit_bank.dates, credit_bank.dates[1:]):
        for loan_id, (balance, dpd) in perf[day].items():
            paid = pays[day].get(loan_id, (Decimal(0), Decimal(0)))[1]
            if loan_id not in perf[prev_day]:
                assert balance == Decimal(loans[loan_id]["principal_amount"]) and dpd == 0
                continue
            prev_balance, prev_dpd = perf[prev_day][loan_id]
            assert balance <= prev_balance
            assert (balance < prev_balance) == (paid > 0) or prev_balance == 0, (loan_id, day)
            if paid == 0:
                # no money in: still current, or one more day overdue (a short payment yesterday starts the count)
                fresh_arrears = prev_dpd == 0 and _short(pays[prev_day], loan_id)
                expected = prev_dpd + 1 if prev_dpd > 0 or fresh_arrears else 0
                assert dpd == expected, (loan_id, day)
            if dpd > 0 and day - dt.timedelta(days=dpd) >= start:
                # the oldest unpaid instalment: it fell due in the span and was not paid in full
                due_amount, paid_then = pays[day - dt.timedelta(days=dpd)][loan_id]
                assert paid_then < due_amount, (loan_id, day)


def _short(pays_of_day: dict[str, tuple[Decimal, Decimal]], loan_id: str) -> bool:
    due, paid = pays_of_day.get(loan_id, (Decimal(0), Decimal(0)))
    return paid < due


def test_loans_originated_in_span_replay_exactly(credit_bank: Bank) -> None:
    """Cumulative paid vs due, allocated oldest first, gives every day's days past due."""
    _, loans, perf, pays = credit_tables(credit_bank)
    start = credit_bank.dates[0]
    fresh = [lid for lid, r in loans.items() if dt.date.fromisoformat(r["origination_date"]) >= start]
    assert fresh
    for lid in fresh:
        dues: list[tuple[dt.date, Decimal]] = []
        paid_total = Decimal(0)
        for day in credit_bank.dates:
            if lid in pays[day]:
                due, paid = pays[day][lid]
                dues.append((day, due))
                paid_total += paid
            if lid not in perf[day]:
                continue
            remaining, oldest = paid_total, None
            for due_day, due in dues:
                if remaining >= due:
                    remaining -= due
                else:
                    oldest = due_day
                    break
            assert perf[day][lid][1] == ((day - oldest).days if oldest else 0), (lid, day)


def test_credit_episodes_match_the_files(credit_bank: Bank) -> None:
    _, loans, perf, pays = credit_tables(credit_bank)
    episodes = credit_bank.episodes("credit")
    assert episodes
    end = credit_bank.dates[-1]
    for e in episodes:
        lid = e["entity_id"]
        assert e["episode_id"] == f"credit-{lid}" and loans[lid]["borrower_id"] == e["borrower_id"]
        onset = dt.date.fromisoformat(e["onset_date"])
        assert onset <= end
        if onset >= credit_bank.dates[0]:
            due, paid = pays[onset][lid]
            assert paid < due
        if e["event_date"]:
            event = dt.date.fromisoformat(e["event_date"])
            assert perf[event][lid][1] == 90
            if event > credit_bank.dates[0]:
                assert perf[event - dt.timedelta(days=1)][lid][1] == 89
        else:
            assert perf[end][lid][1] < 90
    # no loan outside the truth reaches 90 days past due
    labelled = {e["entity_id"] for e in episodes}
    for day in credit_bank.dates:
        assert all(dpd < 90 or lid in labelled for lid, (_, dpd) in perf[day].items())


# ---------------------------------------------------------------------------- truth
def test_truth_file_format(small: Bank) -> None:
    t = small.truth
    assert t["generator"] == "ews-synthetic-bank"
    assert t["config"] == {k: str(v) for k, v in vars(SMALL).items()}
    end = SMALL.start_date + dt.timedelta(days=SMALL.days - 1)
    assert t["span"] == {"start_date": "2025-01-01", "end_date": end.isoformat()}
    keys = [(e["domain"], e["episode_id"]) for e in t["episodes"]]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    for e in t["episodes"]:
        expected = ["episode_id", "domain", "kind", "entity_type", "entity_id"]
        expected += ["borrower_id"] if e["domain"] == "credit" else []
        assert list(e) == expected + ["onset_date", "event_date", "end_date"]
    assert {e["domain"] for e in t["episodes"]} == {"access", "credit", "macro", "market"}


def test_small_span_still_places_market_and_access_episodes(small: Bank) -> None:
    (stress,) = small.episodes("market")
    first, last = dt.date.fromisoformat(stress["onset_date"]), dt.date.fromisoformat(stress["end_date"])
    assert small.dates[0] < first <= last <= small.dates[-1] and is_trading_day(first) and is_trading_day(last)
    for e in small.episodes("access"):
        onset, event, end = (dt.date.fromisoformat(e[k]) for k in ("onset_date", "event_date", "end_date"))
        assert small.dates[0] <= onset < event <= end <= small.dates[-1]


def test_insiders_leave_their_traces(small: Bank) -> None:
    for e in small.episodes("access"):
        user = e["entity_id"]
        onset, event, end = (dt.date.fromisoformat(e[k]) for k in ("onset_date", "event_date", "end_date"))
        mine = {d: [r for r in small.rows("access_events", d) if r["user_id"] == user] for d in small.dates}
        normal = [r for d, rows in mine.items() if not onset <= d <= end for r in rows]
        episode = [r for d, rows in mine.items() if onset <= d <= end for r in rows]
        known_ips = {r["client_ip"] for d, rows in mine.items() if d < onset for r in rows}
        assert {r["client_ip"] for r in episode} - known_ips
        hours = [dt.datetime.fromisoformat(r["event_at"]).hour for r in episode]
        assert any(h >= 20 or h < 5 for h in hours)
        usual_rows = np.median([int(r["rows_read"]) for r in normal if r["action"] == "select"])
        exports = [r for r in small.rows("access_events", event) if r["user_id"] == user and r["action"] == "export"]
        assert exports and max(int(r["rows_read"]) for r in exports) >= 10 * usual_rows
        normal_days = sum(1 for d in small.dates if not onset <= d <= end and d.weekday() < 5)
        per_day = sum(1 for r in normal if r["action"] != "login") / max(normal_days, 1)
        assert len(episode) / ((end - onset).days + 1) > 1.5 * per_day


# --------------------------------------------------------------------- default config
def test_default_config_labels_all_domains(default_bank: Bank) -> None:
    bank = default_bank
    assert {e["domain"] for e in bank.truth["episodes"]} == {"access", "credit", "macro", "market"}
    assert bank.truth["span"] == {"start_date": "2025-01-01", "end_date": "2025-06-29"}
    s = bank.summary
    assert s.files_written["market_prices"] == sum(is_trading_day(d) for d in bank.dates)
    assert 2_000 <= s.rows_written["loan_performance"] / 180 <= 4_000
    assert 1_500 <= s.rows_written["access_events"] / 180 <= 4_000
    assert len(bank.episodes("access")) == 3
    for e in bank.episodes("access"):
        assert dt.date.fromisoformat(e["onset_date"]) >= bank.dates[35]


def test_default_credit_episodes_are_spread_with_labelled_history(default_bank: Bank) -> None:
    bank = default_bank
    episodes = bank.episodes("credit")
    n_loans = bank.summary.rows_written["loans"]
    assert 0.035 <= len(episodes) / n_loans <= 0.065
    start = bank.dates[0]
    events = [(dt.date.fromisoformat(e["event_date"]) - start).days for e in episodes if e["event_date"]]
    assert min(events) < 45  # defaults from the first weeks on
    assert sum(d >= 60 for d in events) > 0.7 * len(events)
    onsets = [dt.date.fromisoformat(e["onset_date"]) for e in episodes]
    assert min(onsets) < start and max(onsets) > bank.dates[-30]


def test_default_market_stress_period(default_bank: Bank) -> None:
    bank = default_bank
    (stress,) = bank.episodes("market")
    first, last = dt.date.fromisoformat(stress["onset_date"]), dt.date.fromisoformat(stress["end_date"])
    trading = [d for d in bank.dates if is_trading_day(d)]
    i, j = trading.index(first), trading.index(last)
    assert i >= 70 and first >= bank.dates[90] and 25 <= j - i + 1 <= 35
    prices = np.array([[float(r["close_price"]) for r in bank.rows("market_prices", d)] for d in trading])
    ids = [r["instrument_id"] for r in bank.rows("market_prices", trading[0])]
    equities = np.array([x.startswith("EQ") for x in ids])
    market = np.diff(np.log(prices[:, equities]), axis=0).mean(axis=1)
    inside = market[i - 1 : j]  # log returns into trading days i..j
    outside = np.r_[market[: i - 1], market[j:]]
    assert inside.std() > 2 * outside.std()
    assert -0.45 < inside.sum() < -0.08


def test_default_credit_boom_and_quiet_economies(default_bank: Bank) -> None:
    bank = default_bank
    (boom,) = bank.episodes("macro")
    assert boom["entity_id"] == "XC"
    assert dt.date.fromisoformat(boom["event_date"]) > bank.dates[-1]
    lag = dt.timedelta(days=45)
    for code in ("XA", "XB", "XC", "XD"):
        quarters, ratio = bank.credit_to_gdp(code)
        visible = [k for k, q in enumerate(quarters) if bank.dates[0] <= q + lag <= bank.dates[-1]]
        visible = [visible[0] - 1] + visible  # what the span's first date already sees
        gaps = [one_sided_gap(ratio[: k + 1]) for k in visible]
        if code == "XC":
            onset = quarters.index(dt.date.fromisoformat(boom["onset_date"]))
            steps = np.diff(ratio[onset - 1 :])
            assert 10 <= len(steps) <= 12
            assert 2.5 <= steps.mean() <= 4.5 and steps.min() > 1.5
            assert min(gaps) > 10
        else:
            assert max(abs(g) for g in gaps) < 2
            assert ratio[-24:].max() - ratio[-24:].min() < 8  # no sustained boom in the last 6 years
