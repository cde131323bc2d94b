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

from warning_models.contract import SOURCE_ORDER, SOURCES, ColumnType, expected_sources, is_trading_day, landing_path
from warning_models.generator import BankConfig, GenerationSummary, generate_bank
from warning_models.generator.access import SENSITIVE_OBJECTS
from warning_models.generator.macro import Crisis, MacroSimulator
from warning_models.generator.market import MarketParams, MarketSimulator
from warning_models.generator.span import Span

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

    def crises(self) -> list[dict[str, str]]:
        return [r for p in sorted((self.landing / "macro_crises").glob("*.csv")) for r in read_rows(p)[1]]

    def series(self, series_id: str) -> tuple[list[dt.date], np.ndarray]:
        values = self.macro()[series_id]
        quarters = sorted(values)
        return quarters, np.array([values[q] for q in quarters])

    def prices(self, source: str) -> dict[str, dict[dt.date, float]]:
        """Closes by instrument and date, from every file of a price source."""
        found: dict[str, dict[dt.date, float]] = defaultdict(dict)
        for path in sorted((self.landing / source).glob("*.csv")):
            for r in read_rows(path)[1]:
                found[r["instrument_id"]][dt.date.fromisoformat(r["price_date"])] = float(r["close_price"])
        return found

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
    assert list(s.files_written) == list(SOURCE_ORDER)
    text = str(s)
    for source in SOURCE_ORDER:
        assert f"{source} " in text and str(s.rows_written[source]) in text


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
                elif name == "market_price_history":
                    assert tie < day
                elif name in ("macro_series", "macro_crises") or (day == first and name in ("borrowers", "loans")):
                    assert tie <= day
                    if name == "macro_crises" and "crisis_end_date" in values:
                        assert tie < values["crisis_end_date"] <= day
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
        assert len(rows) == 4 * SMALL.n_economies
    economies = [f"X{chr(ord('A') + i)}" for i in range(SMALL.n_economies)]
    measures = ("CREDIT_PRIVATE", "DEBT_SERVICE", "GDP_NOMINAL", "HOUSE_PRICE")
    assert {r["series_id"] for r in first} == {f"{e}.{m}" for e in economies for m in measures}


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
    trough = dt.date.fromisoformat(stress["event_date"])  # the day the market's fall is deepest
    assert first <= trough <= last and is_trading_day(trough)
    for e in small.episodes("access"):
        onset, event, end = (dt.date.fromisoformat(e[k]) for k in ("onset_date", "event_date", "end_date"))
        assert small.dates[0] <= onset < event <= end <= small.dates[-1]


def test_insiders_leave_their_traces(small: Bank) -> None:
    kinds = [e["kind"] for e in small.episodes("access")]
    assert kinds.count("insider") >= 1 and kinds.count("quiet_insider") >= 1
    for e in small.episodes("access"):
        user, quiet = e["entity_id"], e["kind"] == "quiet_insider"
        onset, event, end = (dt.date.fromisoformat(e[k]) for k in ("onset_date", "event_date", "end_date"))
        mine = {d: [r for r in small.rows("access_events", d) if r["user_id"] == user] for d in small.dates}
        normal = [r for d, rows in mine.items() if not onset <= d <= end for r in rows]
        episode = [r for d, rows in mine.items() if onset <= d <= end for r in rows]
        known_ips = {r["client_ip"] for d, rows in mine.items() if d < onset for r in rows}
        hours = [dt.datetime.fromisoformat(r["event_at"]).hour for r in episode]
        if quiet:  # own desk, office hours
            assert {r["client_ip"] for r in episode} <= known_ips
            assert not any(h >= 20 or h < 5 for h in hours)
        else:
            assert {r["client_ip"] for r in episode} - known_ips
            assert any(h >= 20 or h < 5 for h in hours)
        # both read sensitive objects they had never touched
        seen_before = {r["object_name"] for r in normal if dt.date.fromisoformat(r["event_at"][:10]) < onset}
        assert {r["object_name"] for r in episode if r["object_name"] in SENSITIVE_OBJECTS} - seen_before
        usual_rows = np.median([int(r["rows_read"]) for r in normal if r["action"] == "select"])
        exports = [r for r in small.rows("access_events", event) if r["user_id"] == user and r["action"] == "export"]
        assert exports and max(int(r["rows_read"]) for r in exports) >= (4 if quiet else 10) * usual_rows
        # more work per working day than usual
        def per_weekday(days: list[dt.date]) -> float:
            work = [r for d in days if d.weekday() < 5 for r in mine[d] if r["action"] not in ("login", "login_failed")]
            return len(work) / max(1, sum(d.weekday() < 5 for d in days))

        inside = [d for d in small.dates if onset <= d <= end]
        outside = [d for d in small.dates if not onset <= d <= end]
        assert per_weekday(inside) > (1.1 if quiet else 1.5) * per_weekday(outside)


# --------------------------------------------------------------------- default config
def test_default_config_labels_all_domains(default_bank: Bank) -> None:
    bank = default_bank
    assert {e["domain"] for e in bank.truth["episodes"]} == {"access", "credit", "macro", "market"}
    assert bank.truth["span"] == {"start_date": "2025-01-01", "end_date": "2025-06-29"}
    s = bank.summary
    assert s.files_written["market_prices"] == sum(is_trading_day(d) for d in bank.dates)
    assert 2_000 <= s.rows_written["loan_performance"] / 180 <= 4_000
    assert 1_500 <= s.rows_written["access_events"] / 180 <= 4_000
    assert len(bank.episodes("access")) == 6  # one insider per ten of the 60 users
    assert len({e["entity_id"] for e in bank.episodes("access")}) == 6
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
    assert BankConfig().n_economies == 10
    for code in (f"X{chr(ord('A') + i)}" for i in range(10)):
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
            _, house = bank.series("XC.HOUSE_PRICE")
            _, dsr = bank.series("XC.DEBT_SERVICE")
            assert house[-1] / house[onset - 1 + 3] > 1.15 and dsr[-1] > dsr[onset - 1 + 3]  # series start 3 earlier
        else:
            assert max(abs(g) for g in gaps) < 1.81, code
            assert ratio[-24:].max() - ratio[-24:].min() < 8  # no sustained boom in the last 6 years


# ----------------------------------------------------------------- market history and positions
def test_price_history_on_day_one_ends_before_the_span_and_joins_smoothly(default_bank: Bank) -> None:
    bank = default_bank
    files = sorted((bank.landing / "market_price_history").glob("*.csv"))
    assert [f.stem for f in files] == [bank.dates[0].isoformat()]
    history, daily = bank.prices("market_price_history"), bank.prices("market_prices")
    assert set(history) == set(daily) and len(history) == BankConfig().n_instruments
    rows = read_rows(files[0])[1]
    keys = [(r["instrument_id"], r["price_date"]) for r in rows]
    assert keys == sorted(keys)
    last_before = max(d for d in (bank.dates[0] - dt.timedelta(days=k) for k in range(1, 10)) if is_trading_day(d))
    first_in_span = min(d for d in bank.dates if is_trading_day(d))
    market_before, market_first = [], []
    for inst, closes in history.items():
        days = sorted(closes)
        assert len(days) == MarketParams().history_trading_days
        assert days[-1] == last_before and all(is_trading_day(d) for d in days)
        # every trading day of the calendar between the first and the last
        calendar = [days[0] + dt.timedelta(days=k) for k in range((days[-1] - days[0]).days + 1)]
        assert days == [d for d in calendar if is_trading_day(d)]
        returns = np.diff(np.log([closes[d] for d in days]))
        join = np.log(daily[inst][first_in_span] / closes[days[-1]])
        assert abs(join) < 5 * returns.std(), inst  # no jump from the history into the span
        if inst.startswith("EQ"):
            market_before.append(returns)
            market_first.append(join)
    # the history is calm: volatility clusters mildly, never a stress period (>= 3x normal sigma)
    market = np.mean(market_before, axis=0)
    rolling = np.array([market[i : i + 25].std() for i in range(len(market) - 25)])
    assert rolling.max() < 1.8 * np.median(rolling) and rolling.max() < 0.016
    assert rolling.max() > 1.15 * rolling.min()  # but it does vary


def test_span_prices_do_not_depend_on_the_history() -> None:
    span = Span(dt.date(2025, 1, 1), 60)
    with_history = MarketSimulator(span, 8, np.random.default_rng(3))
    without = MarketSimulator(span, 8, np.random.default_rng(3), MarketParams(history_trading_days=0))
    short = MarketSimulator(span, 8, np.random.default_rng(3), MarketParams(history_trading_days=30))
    assert without.price_history(span.start) is None
    assert len(short.price_history(span.start)["price_date"]) == 30 * 8
    assert with_history.price_history(span.start + dt.timedelta(days=1)) is None
    for day in span.trading_days:
        assert np.array_equal(with_history.closes(day), without.closes(day))
        assert np.array_equal(short.closes(day), without.closes(day))


def test_new_streams_leave_existing_domains_alone() -> None:
    """spawn(n) hands out the same first children for any n: appending a stream changes no earlier domain."""
    for seed in (0, 42, 2**40 + 3):
        four = np.random.SeedSequence(seed).spawn(4)
        six = np.random.SeedSequence(seed).spawn(6)
        for a, b in zip(four, six):
            assert np.array_equal(np.random.default_rng(a).random(8), np.random.default_rng(b).random(8))


def _positions(bank: Bank) -> dict[dt.date, dict[tuple[str, str], float]]:
    found = {}
    for day in bank.dates:
        rows = bank.rows("portfolio_positions", day)
        assert (rows is not None) == is_trading_day(day), day
        if rows is not None:
            keys = [(r["portfolio_id"], r["instrument_id"]) for r in rows]
            assert keys == sorted(keys)
            assert all(r["quantity"].lstrip("-").isdigit() for r in rows)  # whole units
            found[day] = {k: float(r["quantity"]) for k, r in zip(keys, rows)}
    return found


def test_positions_rebalance_monthly_to_target_weights(default_bank: Bank) -> None:
    bank = default_bank
    held = _positions(bank)
    trading = sorted(held)
    rebalance = [d for i, d in enumerate(trading) if i == 0 or d.month != trading[i - 1].month]
    assert len(rebalance) == 6 and rebalance[0] == trading[0]
    closes = {d: {r["instrument_id"]: float(r["close_price"]) for r in bank.rows("market_prices", d)} for d in trading}
    books = {p for p, _ in held[trading[0]]}
    assert books == {"TRADING", "TREASURY"}
    assert all(i.startswith("EQ") for p, i in held[trading[0]] if p == "TRADING")
    assert all(i.startswith("BD") for p, i in held[trading[0]] if p == "TREASURY")
    shorts = [i for (p, i), q in held[trading[0]].items() if q < 0]
    assert 1 <= len(shorts) <= 2 and all(i.startswith("EQ") for i in shorts)
    weights = []
    for prev, day in zip([None] + trading, trading):
        if day in rebalance:
            value = {k: q * closes[day][k[1]] for k, q in held[day].items()}
            gross = {p: sum(abs(v) for (pp, _), v in value.items() if pp == p) for p in books}
            assert abs(gross["TRADING"] / 100e6 - 1) < 0.005 and abs(gross["TREASURY"] / 200e6 - 1) < 0.005
            weights.append({k: v / gross[k[0]] for k, v in value.items()})
            if prev is not None:
                assert held[day] != held[prev], day  # prices moved: the reset changes quantities
        else:
            assert held[day] == held[prev], day  # constant between rebalances
    for w in weights[1:]:
        assert w.keys() == weights[0].keys()
        assert max(abs(w[k] - weights[0][k]) for k in w) < 1e-3  # the same targets every month
    assert weights[0].keys() == held[trading[-1]].keys()


# ---------------------------------------------------------------------------------- macro history
def test_macro_crises_published_on_day_one_with_history(default_bank: Bank) -> None:
    bank = default_bank
    files = sorted(p.stem for p in (bank.landing / "macro_crises").glob("*.csv"))
    assert files == [bank.dates[0].isoformat()]
    crises = bank.crises()
    economies = [r["economy_code"] for r in crises]
    assert len(economies) == len(set(economies)) >= 3  # one crisis per economy, at least 3 economies
    assert len(economies) == 5  # half of the ten
    (boom,) = bank.episodes("macro")
    future = dt.date.fromisoformat(boom["event_date"])
    for r in crises:
        start, end = dt.date.fromisoformat(r["crisis_start_date"]), dt.date.fromisoformat(r["crisis_end_date"])
        assert start.day == 1 and start.month in (1, 4, 7, 10) and 2003 <= start.year <= 2012
        assert (end + dt.timedelta(days=1)).day == 1 and end.month in (3, 6, 9, 12)
        quarters = (end.year * 12 + end.month - start.year * 12 - start.month + 1) // 3
        assert 4 <= quarters <= 8
        assert start != future and end + dt.timedelta(days=45) <= bank.dates[0]


def test_historical_crises_follow_booms_and_precede_deleveraging(default_bank: Bank) -> None:
    bank = default_bank
    for r in bank.crises():
        code = r["economy_code"]
        start = dt.date.fromisoformat(r["crisis_start_date"])
        quarters, ratio = bank.credit_to_gdp(code)
        k = quarters.index(start - dt.timedelta(days=1))  # the last quarter before the crisis
        gap_before = one_sided_gap(ratio[: k + 1])
        gap_earlier = one_sided_gap(ratio[: k - 11]) if k >= 20 else 0.0
        assert gap_before > 6 and gap_before - gap_earlier > 5, (code, gap_before, gap_earlier)
        assert ratio[k] - ratio[k - 8] > 10  # credit outgrew GDP in the boom ...
        assert ratio[k + 7] < ratio[k + 1] - 3  # ... and fell in the deleveraging
        hq, house = bank.series(f"{code}.HOUSE_PRICE")
        _, dsr = bank.series(f"{code}.DEBT_SERVICE")
        h = hq.index(quarters[k])
        assert house[h] / house[h - 8] > 1.10 and house[h + 6] < 0.97 * house[h]
        assert dsr[h] > dsr[h - 8] + 0.5
    # a boom without a crisis keeps the signals honest: some crisis-free economy had a gap above 5 pp
    with_crisis = {r["economy_code"] for r in bank.crises()}
    crisis_free = sorted({f"X{chr(ord('A') + i)}" for i in range(10)} - with_crisis - {"XC"})
    peaks = {}
    for code in crisis_free:
        quarters, ratio = bank.credit_to_gdp(code)
        last = quarters.index(dt.date(2016, 12, 31))
        peaks[code] = max(one_sided_gap(ratio[: k + 1]) for k in range(12, last, 2))
    assert max(peaks.values()) > 5, peaks


def test_macro_series_stay_within_the_gate(default_bank: Bank) -> None:
    series = default_bank.macro()
    assert len(series) == 40
    for series_id, values in series.items():
        quarters = sorted(values)
        v = np.array([values[q] for q in quarters])
        assert v.min() > 0, series_id
        assert np.abs(np.diff(np.log(v))).max() < 0.25, series_id  # the gate's band is 0.5
        if series_id.endswith("HOUSE_PRICE"):
            assert abs(np.mean([values[q] for q in quarters if q.year == 2010]) - 100) < 0.1
            assert 30 < v.min() and v.max() < 300
        if series_id.endswith("DEBT_SERVICE"):
            assert 5 < v.min() and v.max() < 30 and 8 < np.median(v) < 20


@pytest.mark.parametrize("n_economies", [1, 2, 4, 6])
def test_small_panels_place_crises_and_false_booms(n_economies: int) -> None:
    span = Span(dt.date(2025, 1, 1), 180)
    sim = MacroSimulator(span, n_economies, np.random.default_rng(5))
    assert len(sim.historical_crises) == max(1, n_economies // 2)
    lo, hi = (1 if n_economies >= 3 else 0), (2 if n_economies >= 6 else 1)
    assert lo <= len(sim.false_booms) <= hi
    late_boom = sim.economies[sim.boom_index].code
    assert not {f.code for f in sim.false_booms} & ({c.code for c in sim.historical_crises} | {late_boom})
    batch = sim.crises(span.start)
    assert batch is not None and len(batch["economy_code"]) == len(sim.historical_crises)
    assert all(sim.crises(d) is None for d in span.dates[1:])


def test_crisis_dating_is_published_as_it_becomes_known() -> None:
    span = Span(dt.date(2025, 1, 1), 180)
    sim = MacroSimulator(span, 3, np.random.default_rng(1))
    ends = dt.date(2024, 12, 31)
    sim.historical_crises = [Crisis("XB", 0, 0, 0, 0, dt.date(2024, 1, 1), ends)]
    first = sim.crises(span.start)
    assert first == {"economy_code": ["XB"], "crisis_start_date": ["2024-01-01"], "crisis_end_date": [""]}
    known = ends + dt.timedelta(days=45)
    assert [d for d in span.dates[1:] if sim.crises(d) is not None] == [known]
    assert sim.crises(known)["crisis_end_date"] == ["2024-12-31"]


def test_every_loans_last_instalment_closes_its_balance() -> None:
    """The instalment is rounded up to the cent: rounded down, a long loan's last instalment fell up to ~0.30 short of
    the balance it closes, the book dropped it at zero anyway, and the gate quarantined that day (balance
    reconciliation), then every later day (a loan vanished owing the residual)."""
    from warning_models.generator.credit import CreditSimulator

    sim = CreditSimulator(Span(dt.date(2025, 1, 1), 1), 20_000, np.random.default_rng(11))
    principal = sim.loans["principal_cents"].astype(np.float64)
    annuity, term = sim.loans["annuity_cents"].astype(np.float64), sim.loans["term"].astype(np.float64)
    growth = 1 + sim.loans["rate_bp"] / 1_200_000
    owed_after_last = principal * growth**term - annuity * (growth**term - 1) / (growth - 1)  # cents, exact schedule
    assert len(principal) > 10_000
    assert owed_after_last.max() <= 0.5, np.sort(owed_after_last)[-5:]
    cent_a_month = (growth**term - 1) / (growth - 1)  # what one cent over, every month, comes to with its interest
    assert (owed_after_last >= -cent_a_month).all()
