"""The gate on price history, trading-book positions and crisis dates, and price checks that read history.

A bank onboards an instrument's past closes once (market_price_history); its daily closes then continue that
series, so a decimal shift or a frozen run is caught inside a history file, and the first daily close after a
history-only load is judged against it. Positions must be priced on their date; crisis dates must be in order.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from pathlib import Path
from typing import Any

import psycopg2

from warning_models.contract import is_trading_day, landing_path
from warning_models.gate import GateResult, gate_batches
from warning_models.loader import load_file

DAY = dt.date(2025, 3, 3)  # a Monday: the business date history is delivered on
PRICES = "instrument_id,price_date,close_price\n"
POSITIONS = "portfolio_id,instrument_id,position_date,quantity\n"
CRISES = "economy_code,crisis_start_date,crisis_end_date\n"
INSTRUMENTS = ("EQ01", "EQ02", "EQ03")
HISTORY_DAYS = 120  # vendor days of history before DAY


def _vendor_days(n: int, before: dt.date = DAY) -> list[dt.date]:
    """The vendor's calendar: every weekday (1 January and 26 December included: not the contract's calendar)."""
    days, d = [], before - dt.timedelta(days=1)
    while len(days) < n:
        if d.weekday() < 5:
            days.append(d)
        d -= dt.timedelta(days=1)
    return sorted(days)


def _walk(seed: int, n: int, start: float = 100.0, vol: float = 0.012) -> list[float]:
    rng = random.Random(seed)
    prices, p = [], start
    for _ in range(n):
        p *= math.exp(rng.gauss(0, vol))
        prices.append(round(p, 4))
    return prices


def _history_rows(n: int = HISTORY_DAYS, before: dt.date = DAY) -> list[list[Any]]:
    """Rows instrument by instrument, each in date order (file line = index + 2)."""
    days = _vendor_days(n, before)
    return [[i, d, p] for k, i in enumerate(INSTRUMENTS) for d, p in zip(days, _walk(k, n, 50.0 * (k + 1)))]


def _line_of(rows: list[list[Any]], instrument: str, nth: int) -> int:
    """The file line of an instrument's nth row (0-based) in a file written from `rows`."""
    return [i for i, r in enumerate(rows) if r[0] == instrument][nth] + 2


def _body(rows: list[list[Any]]) -> str:
    return "".join(",".join("" if v is None else str(v) for v in r) + "\n" for r in rows)


def _load(url: str, root: Path, source: str, day: dt.date, header: str, rows: list[list[Any]]) -> str:
    path = landing_path(root, source, day)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(header + _body(rows))
    with psycopg2.connect(url) as conn:
        loaded = load_file(conn, source, day, path)
    assert loaded.batch_status == "loaded", loaded.error
    return loaded.batch_id


def _gate(url: str, *batch_ids: str) -> list[GateResult]:
    with psycopg2.connect(url) as conn:
        return gate_batches(conn, url, list(batch_ids))


def _failed(result: GateResult) -> dict[str, list[dict[str, Any]]]:
    """Each blocking check that failed, with its example rows."""
    return {f["check"]: f["examples"] for f in result.failures}


def _lines(examples: list[dict[str, Any]]) -> list[int]:
    return [e["line"] for e in examples]


def _one(url: str, sql: str, *params: object) -> tuple:
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchone()


# --- market_price_history ---------------------------------------------------------------------------------


def test_a_clean_history_on_the_vendors_calendar_passes(warehouse: str, tmp_path: Path) -> None:
    rows = _history_rows()
    assert any(not is_trading_day(r[1]) for r in rows)  # 1 January: not a contract trading day, still fine
    [result] = _gate(warehouse, _load(warehouse, tmp_path, "market_price_history", DAY, PRICES, rows))
    assert result.passed, result.failures
    assert _one(warehouse, "select count(*) from raw.market_price_history") == (len(rows),)


def test_a_decimal_shift_inside_a_history_names_its_row_and_instrument(warehouse: str, tmp_path: Path) -> None:
    rows = _history_rows()
    line = _line_of(rows, "EQ02", 70)
    rows[line - 2][2] = round(rows[line - 2][2] * 100, 4)
    [result] = _gate(warehouse, _load(warehouse, tmp_path, "market_price_history", DAY, PRICES, rows))
    assert not result.passed
    jumps = _failed(result)["price_jump"]
    # the shifted row only: the move back on the next row is the spike ending, not a second break
    assert [(e["line"], e["instrument_id"]) for e in jumps] == [(line, "EQ02")]
    assert jumps[0]["price_date"] == str(rows[line - 2][1]) and float(jumps[0]["log_return"]) > 4
    assert _one(warehouse, "select status from audit.batches where source = 'market_price_history'") == ("quarantined",)
    assert _one(warehouse, "select count(*) from raw.market_price_history") == (0,)


def test_a_level_shift_inside_a_history_names_where_it_starts(warehouse: str, tmp_path: Path) -> None:
    rows = _history_rows()
    start = _line_of(rows, "EQ03", 90)
    for r in rows[start - 2 : _line_of(rows, "EQ03", HISTORY_DAYS - 1) - 1]:
        r[2] = round(r[2] / 100, 6)  # from here on the vendor sends the price in hundreds
    [result] = _gate(warehouse, _load(warehouse, tmp_path, "market_price_history", DAY, PRICES, rows))
    assert [(e["line"], e["instrument_id"]) for e in _failed(result)["price_jump"]] == [(start, "EQ03")]


def test_a_stale_run_inside_a_history_is_caught(warehouse: str, tmp_path: Path) -> None:
    rows = _history_rows()
    first = _line_of(rows, "EQ01", 40)
    for r in rows[first - 2 : first + 3]:  # five closes in a row, all the same
        r[2] = rows[first - 2][2]
    [result] = _gate(warehouse, _load(warehouse, tmp_path, "market_price_history", DAY, PRICES, rows))
    assert not result.passed
    stale = _failed(result)["stale_price"]
    assert [(e["line"], e["instrument_id"], e["same_close_trading_days"]) for e in stale] == [(first + 4, "EQ01", 5)]


def test_history_must_lie_before_the_business_date(warehouse: str, tmp_path: Path) -> None:
    rows = [*_history_rows(), ["EQ01", DAY, 51.0]]  # the day's own close belongs in market_prices
    [result] = _gate(warehouse, _load(warehouse, tmp_path, "market_price_history", DAY, PRICES, rows))
    assert _lines(_failed(result)["before_business_date"]) == [len(rows) + 1]


# --- market_prices after a history-only load ----------------------------------------------------------------


def _onboard(url: str, root: Path, rows: list[list[Any]] | None = None) -> dict[str, float]:
    """Load and pass a history; return each instrument's last close."""
    rows = rows or _history_rows()
    [result] = _gate(url, _load(url, root, "market_price_history", DAY, PRICES, rows))
    assert result.passed, result.failures
    return {r[0]: r[2] for r in rows}


def test_the_first_daily_prices_after_a_history_pass_and_are_judged_against_it(warehouse: str, tmp_path: Path) -> None:
    last = _onboard(warehouse, tmp_path)
    clean = [[i, DAY, round(p * 1.01, 4)] for i, p in last.items()]
    [passed] = _gate(warehouse, _load(warehouse, tmp_path / "a", "market_prices", DAY, PRICES, clean))
    assert passed.passed, passed.failures  # every instrument is known from the history


def test_a_x10_jump_on_the_first_daily_file_after_a_history_is_caught(warehouse: str, tmp_path: Path) -> None:
    last = _onboard(warehouse, tmp_path)
    rows = [[i, DAY, round(p * (10 if i == "EQ03" else 1.01), 4)] for i, p in last.items()]
    [result] = _gate(warehouse, _load(warehouse, tmp_path / "a", "market_prices", DAY, PRICES, rows))
    jumps = _failed(result)["price_jump"]
    assert [(e["line"], e["instrument_id"]) for e in jumps] == [(4, "EQ03")]
    assert (jumps[0]["compared_with"], jumps[0]["compared_date"]) == ("previous close", str(_vendor_days(1)[0]))
    assert float(jumps[0]["compared_close"]) == last["EQ03"]


def test_a_daily_close_continuing_a_frozen_history_is_stale(warehouse: str, tmp_path: Path) -> None:
    rows = _history_rows()
    end = _line_of(rows, "EQ01", HISTORY_DAYS - 1)
    for r in rows[end - 5 : end - 1]:  # the history's last four closes of EQ01 are equal
        r[2] = rows[end - 5][2]
    last = _onboard(warehouse, tmp_path, rows)
    daily = [[i, DAY, p if i == "EQ01" else round(p * 1.01, 4)] for i, p in last.items()]
    [result] = _gate(warehouse, _load(warehouse, tmp_path / "a", "market_prices", DAY, PRICES, daily))
    assert [(e["line"], e["instrument_id"]) for e in _failed(result)["stale_price"]] == [(2, "EQ01")]


def test_an_instrument_neither_priced_nor_in_the_history_is_unknown(warehouse: str, tmp_path: Path) -> None:
    last = _onboard(warehouse, tmp_path)
    rows = [*([i, DAY, round(p * 1.01, 4)] for i, p in last.items()), ["ZZ99", DAY, 10.0]]
    [result] = _gate(warehouse, _load(warehouse, tmp_path / "a", "market_prices", DAY, PRICES, rows))
    assert [(e["line"], e["instrument_id"]) for e in _failed(result)["unknown_instrument"]] == [(5, "ZZ99")]


def test_a_history_in_another_unit_than_the_live_daily_closes_is_caught_at_the_seam(warehouse: str, tmp_path: Path) -> None:
    # Daily closes of EQ01 are live for the last five trading days; the history delivered after them ends
    # just before and is in cents.
    daily_days = [d for d in _vendor_days(5) if is_trading_day(d)]
    prices = _walk(99, HISTORY_DAYS + len(daily_days))
    ids = [
        _load(warehouse, tmp_path / f"d{k}", "market_prices", d, PRICES, [["EQ01", d, p]])
        for k, (d, p) in enumerate(zip(daily_days, prices[HISTORY_DAYS:]))
    ]
    assert all(r.passed for r in _gate(warehouse, *ids))
    days = _vendor_days(HISTORY_DAYS, daily_days[0])
    rows = [["EQ01", d, round(p * 100, 2)] for d, p in zip(days, prices)]
    [result] = _gate(warehouse, _load(warehouse, tmp_path, "market_price_history", DAY, PRICES, rows))
    jumps = _failed(result)["price_jump"]
    assert [(e["line"], e["compared_with"], e["compared_date"]) for e in jumps] == [
        (len(rows) + 1, "next close", str(daily_days[0]))
    ]


def test_a_history_close_gives_way_to_the_daily_close_of_its_day_and_must_agree_with_it(
    warehouse: str, tmp_path: Path
) -> None:
    # EQ01 is priced daily on the history's last day; the history repeats that day.
    last_day = _vendor_days(1)[0]
    rows = _history_rows()
    end = _line_of(rows, "EQ01", HISTORY_DAYS - 1)
    daily = _load(warehouse, tmp_path / "d", "market_prices", last_day, PRICES, [["EQ01", last_day, rows[end - 2][2]]])
    assert _gate(warehouse, daily)[0].passed
    rows[end - 2][2] = round(rows[end - 2][2] * 1.02, 4)  # a vendor's adjusted close: the daily one is kept
    [passed] = _gate(warehouse, _load(warehouse, tmp_path, "market_price_history", DAY, PRICES, rows))
    assert passed.passed, passed.failures
    rows[end - 2][2] = round(rows[end - 2][2] * 100, 4)  # a decimal shift hidden under the daily close
    [result] = _gate(warehouse, _load(warehouse, tmp_path / "again", "market_price_history", DAY, PRICES, rows))
    jumps = _failed(result)["price_jump"]
    assert [(e["line"], e["compared_with"]) for e in jumps] == [(end, "close kept for the day")]


# --- portfolio_positions ------------------------------------------------------------------------------------


def _prices_on(day: dt.date, instruments: tuple[str, ...], seed: int = 0) -> list[list[Any]]:
    rng = random.Random(seed)
    return [[i, day, round(100 * (k + 1) * math.exp(rng.gauss(0, 0.01)), 4)] for k, i in enumerate(instruments)]


def test_a_position_in_an_instrument_without_a_close_that_day_is_quarantined(warehouse: str, tmp_path: Path) -> None:
    last = _onboard(warehouse, tmp_path / "h")  # EQ03 has a history, but no close on the day
    today = _load(warehouse, tmp_path / "p", "market_prices", DAY, PRICES, [[i, DAY, last[i]] for i in ("EQ01", "EQ02")])
    rows = [["BOOK1", "EQ01", DAY, 100], ["BOOK1", "EQ03", DAY, -40], ["BOOK2", "EQ02", DAY, 5]]
    positions = _load(warehouse, tmp_path, "portfolio_positions", DAY, POSITIONS, rows)
    prices, held = _gate(warehouse, today, positions)
    assert prices.passed and not held.passed
    unpriced = _failed(held)["position_unpriced"]
    assert [(e["line"], e["portfolio_id"], e["instrument_id"]) for e in unpriced] == [(3, "BOOK1", "EQ03")]
    assert unpriced[0]["last_close_date"] == str(_vendor_days(1)[0])  # its last close came with the history


def test_positions_priced_that_day_pass_shorts_included(warehouse: str, tmp_path: Path) -> None:
    prices = _load(warehouse, tmp_path / "p", "market_prices", DAY, PRICES, _prices_on(DAY, INSTRUMENTS))
    rows = [["BOOK1", "EQ01", DAY, 100], ["BOOK1", "EQ03", DAY, -40.5]]
    results = _gate(warehouse, prices, _load(warehouse, tmp_path, "portfolio_positions", DAY, POSITIONS, rows))
    assert [r.passed for r in results] == [True, True], [r.failures for r in results]


def test_a_flat_book_passes_after_weeks_of_stable_holdings(warehouse: str, tmp_path: Path) -> None:
    instruments = tuple(f"EQ{k:02d}" for k in range(1, 11))
    days = [d for d in (DAY - dt.timedelta(days=k) for k in range(20, -1, -1)) if is_trading_day(d)]
    ids = []
    for k, day in enumerate(days):
        ids.append(_load(warehouse, tmp_path / f"p{k}", "market_prices", day, PRICES, _prices_on(day, instruments, k)))
        book = [[f"BOOK{b}", i, day, 10 * b] for b in range(1, 7) for i in instruments] if day != DAY else []
        ids.append(_load(warehouse, tmp_path / f"q{k}", "portfolio_positions", day, POSITIONS, book))
    results = _gate(warehouse, *ids)
    assert [r.batch_id for r in results if not r.passed] == []
    flat = results[-1]
    assert flat.business_date == DAY and _one(warehouse, "select row_count from audit.batches where batch_id = %s", flat.batch_id) == (0,)
    assert [w["check"] for w in flat.warnings] == ["row_count_drift"]  # a book going flat is worth a look


def test_positions_from_another_day_are_refused(warehouse: str, tmp_path: Path) -> None:
    prices = _load(warehouse, tmp_path / "p", "market_prices", DAY, PRICES, _prices_on(DAY, INSTRUMENTS))
    rows = [["BOOK1", "EQ01", DAY, 100], ["BOOK1", "EQ02", DAY - dt.timedelta(days=3), 7]]
    _, result = _gate(warehouse, prices, _load(warehouse, tmp_path, "portfolio_positions", DAY, POSITIONS, rows))
    assert _lines(_failed(result)["on_business_date"]) == [3]


# --- macro_crises -------------------------------------------------------------------------------------------


def test_crisis_dates_in_order_with_an_open_crisis_pass(warehouse: str, tmp_path: Path) -> None:
    rows = [["XA", "2008-01-01", "2009-12-31"], ["XB", "2024-07-01", None], ["XA", "2024-10-01", None]]
    [result] = _gate(warehouse, _load(warehouse, tmp_path, "macro_crises", DAY, CRISES, rows))
    assert result.passed, result.failures


def test_a_crisis_ending_before_it_starts_is_quarantined_naming_the_rule(warehouse: str, tmp_path: Path) -> None:
    rows = [
        ["XA", "2008-01-01", "2009-12-31"],
        ["XB", "2011-07-01", "2010-12-31"],  # line 3: ends before it starts
        ["XC", "2026-01-01", None],  # line 4: starts after the business date
        ["XD", "2024-01-01", "2025-06-30"],  # line 5: ends after the business date
        ["xa", "2001-01-01", "2001-12-31"],  # line 6: not an economy code
    ]
    [result] = _gate(warehouse, _load(warehouse, tmp_path, "macro_crises", DAY, CRISES, rows))
    assert not result.passed
    failed = {(f["check"], f["column"]): _lines(f["examples"]) for f in result.failures}
    assert failed == {
        ("dates_in_order", "crisis_end_date"): [3],
        ("not_after_business_date", "crisis_start_date"): [4],
        ("not_after_business_date", "crisis_end_date"): [5],
        ("value_format", "economy_code"): [6],
    }
    assert _one(warehouse, "select detail -> 'failed_checks' from audit.batches where source = 'macro_crises'")[0] == [
        "dates_in_order", "not_after_business_date", "value_format"
    ]


# --- every check's stored form fits audit.dq_results --------------------------------------------------------


def test_every_check_of_a_full_chunk_fits_the_results_index(warehouse: str) -> None:
    """audit.dq_results keys a result by its kwargs (a check's SQL, batch ids included): a chunk of 40 batches must
    fit its primary-key index, with room to spare."""
    import json
    import secrets

    from expectations import build_suite
    from warning_models.contract import SOURCES
    from warning_models.gate import CHUNK

    with psycopg2.connect(warehouse) as conn, conn.cursor() as cur:
        cur.execute("create temp table results (like audit.dq_results including defaults including indexes)")
        for source in SOURCES:
            ids = [f"{source}:2025-{1 + k // 28:02d}-{1 + k % 28:02d}:{secrets.token_hex(6)}" for k in range(CHUNK)]
            for e in build_suite(source, ids).expectations:
                kwargs = {k: v for k, v in e.configuration.kwargs.items() if k not in ("batch_id", "result_format")}
                cur.execute(
                    "insert into results (batch_id, suite_name, expectation_type, column_name, kwargs, success)"
                    " values (%s, %s, %s, %s, %s, true)",
                    (ids[0], f"raw_{source}", e.meta["check"], "", json.dumps(kwargs, sort_keys=True, default=str)),
                )
        # the whole key must stay under btree's 2,704 bytes; keep the (compressed) SQL well inside it
        cur.execute("select expectation_type, suite_name, pg_column_size(kwargs) from results order by 3 desc limit 1")
        check, suite, size = cur.fetchone()
    assert size < 2400, f"{suite}.{check}: {size} bytes"
