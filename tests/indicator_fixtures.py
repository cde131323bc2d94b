"""Synthetic dbt marts for the indicator tests: the five tables, seeded, with one planted anomaly per domain.

Everything is generated with numpy from a seed, so every run writes the same rows.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import psycopg2.extensions

MARTS_DDL = """
drop table if exists marts.fct_loan_days, marts.fct_market_index_days, marts.fct_instrument_returns,
    marts.fct_credit_to_gdp_quarters, marts.fct_user_days, marts.fct_portfolio_positions, marts.fct_portfolio_days,
    marts.fct_macro_indicator_quarters, marts.dim_systemic_crises, marts.fct_user_hours, marts.dim_access_users,
    marts.dim_access_user_objects;
create table marts.fct_macro_indicator_quarters (
    economy_quarter_key text primary key, economy_code text, period_end_date date, credit_to_gdp_pct double precision,
    credit_to_gdp_change_4q_pp double precision, credit_growth_yoy_pct double precision,
    house_price_index double precision, house_price_growth_yoy_pct double precision,
    debt_service_ratio_pct double precision, published_date date);
create table marts.dim_systemic_crises (
    crisis_key text primary key, economy_code text, crisis_start_date date, crisis_end_date date,
    is_ongoing boolean, crisis_quarters_count integer, published_date date);
create table marts.fct_loan_days (
    loan_day_key text primary key, loan_id text, borrower_id text, performance_date date, product text,
    segment text, region text, origination_date date, principal_amount numeric, interest_rate_pct numeric,
    balance_amount numeric, days_past_due bigint, delinquency_bucket text, is_default boolean,
    due_amount numeric, paid_amount numeric, months_on_book integer);
create table marts.fct_market_index_days (
    price_date date primary key, instruments_count integer, index_log_return double precision,
    index_level double precision, drawdown_252d_pct double precision);
create table marts.fct_portfolio_positions (
    position_key text primary key, portfolio_id text, instrument_id text, position_date date, quantity numeric,
    close_price numeric, market_value_amount numeric, gross_weight_pct double precision);
create table marts.fct_portfolio_days (
    portfolio_day_key text primary key, portfolio_id text, position_date date, previous_position_date date,
    positions_count integer, unpriced_positions_count integer, market_value_amount numeric,
    gross_exposure_amount numeric, previous_gross_exposure_amount numeric, pnl_amount numeric,
    unpriced_holdings_count integer, hypothetical_return double precision);
create table marts.fct_instrument_returns (
    instrument_day_key text primary key, instrument_id text, price_date date, close_price numeric,
    log_return double precision, simple_return double precision);
create table marts.fct_credit_to_gdp_quarters (
    economy_quarter_key text primary key, economy_code text, period_end_date date, credit_amount numeric,
    gdp_amount numeric, gdp_4q_amount numeric, credit_to_gdp_pct double precision, published_date date);
create table marts.fct_user_days (
    user_day_key text primary key, user_id text, activity_date date, events_count bigint, rows_read bigint,
    select_count bigint, export_count bigint, failed_login_count bigint, off_hours_events_count bigint,
    sensitive_object_events_count bigint, distinct_objects_count bigint, distinct_ips_count bigint,
    new_ip_count bigint, new_network_count bigint, new_sensitive_object_count bigint,
    max_session_failed_logins_count bigint);
create table marts.fct_user_hours (
    user_hour_key text primary key, user_id text, activity_date date, hour_of_day integer, events_count bigint);
create table marts.dim_access_users (user_id text primary key, peer_group text, first_event_date date);
create table marts.dim_access_user_objects (
    user_object_key text primary key, user_id text, object_name text, is_sensitive_object boolean,
    first_seen_date date);
create table marts.fct_npl_ratio_days (
    npl_day_key text primary key, performance_date date, segment text, is_month_end boolean, loans_count integer,
    balance_amount numeric, npl_loans_count integer, npl_balance_amount numeric, npl_ratio_pct double precision,
    current_balance_amount numeric, dpd_1_29_balance_amount numeric, dpd_30_59_balance_amount numeric,
    dpd_60_89_balance_amount numeric, dpd_90_plus_balance_amount numeric);
create table marts.fct_credit_roll_rates (
    roll_key text primary key, roll_month_start_date date, segment text, from_bucket text, to_bucket text,
    loans_count integer, from_balance_amount numeric, to_balance_amount numeric, roll_rate_pct double precision,
    balance_roll_rate_pct double precision);
"""


def copy_frame(conn: psycopg2.extensions.connection, table: str, frame: pd.DataFrame) -> None:
    """Append a DataFrame to a table with COPY (NULL as an empty field)."""
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, header=False, na_rep="")
    buffer.seek(0)
    with conn.cursor() as cur:
        cur.copy_expert(f"copy {table} ({', '.join(frame.columns)}) from stdin with (format csv)", buffer)


def _dates(start: dt.date, n: int) -> list[dt.date]:
    return [start + dt.timedelta(days=i) for i in range(n)]


# ------------------------------------------------------------------------------------------------ credit

PRODUCTS = ("card", "mortgage", "personal")


@dataclass(frozen=True)
class LoanBook:
    """Planted loans: ``sliding`` stop paying on ``sliding_first_missed`` (dpd 60-80, not yet 90, at the end)."""

    n_loans: int = 300
    start: dt.date = dt.date(2024, 1, 1)
    n_days: int = 182
    seed: int = 7
    sliding: tuple[str, ...] = ("L9001", "L9002", "L9003")
    sliding_first_missed: tuple[int, ...] = (105, 110, 115)  # day of the first missed instalment
    healthy: tuple[str, ...] = ("L0000",)
    bad_share: float = 0.12
    wobbly_share: float = 0.12


def loan_days(book: LoanBook = LoanBook()) -> pd.DataFrame:
    rng = np.random.default_rng(book.seed)
    days = np.arange(book.n_days)
    dates = np.array(_dates(book.start, book.n_days), dtype="datetime64[D]")
    ids = [f"L{i:04d}" for i in range(book.n_loans)] + list(book.sliding)
    frames = []
    for n, loan_id in enumerate(ids):
        product = PRODUCTS[rng.integers(len(PRODUCTS))]
        principal = float(np.round(rng.uniform(2_000, 50_000), 2))
        term_months = int(rng.choice([24, 36, 60]))
        age0 = int(rng.integers(30, 700))  # days on book at the start
        instalment = round(principal / term_months, 2)
        due_offset = int(rng.integers(0, 30))
        if loan_id in book.sliding:  # their first missed instalment falls exactly on the planted day
            due_offset = book.sliding_first_missed[book.sliding.index(loan_id)] % 30
        due_days = days[(days % 30) == due_offset]
        u = rng.uniform()
        first_missed: int | None = None
        cure_after: int | None = None
        if loan_id in book.sliding:
            first_missed = book.sliding_first_missed[book.sliding.index(loan_id)]
        elif loan_id in book.healthy:
            pass
        elif u < book.bad_share:
            first_missed = int(rng.integers(0, book.n_days))
        elif u < book.bad_share + book.wobbly_share:
            first_missed = int(rng.integers(0, book.n_days))
            cure_after = int(rng.choice([1, 2, 3]))  # instalments missed before catching up
        if first_missed is not None:
            first_missed = int(due_days[due_days >= first_missed][0]) if (due_days >= first_missed).any() else None
        due = np.zeros(book.n_days)
        due[due_days] = instalment
        paid = due.copy()
        dpd = np.zeros(book.n_days)
        if first_missed is not None:
            missed_days = due_days[due_days >= first_missed]
            if cure_after is not None:
                missed = missed_days[:cure_after]
                paid[missed] = 0.0
                cure_day = missed[-1] + 30
                if cure_day < book.n_days:
                    paid[cure_day] = instalment * (cure_after + 1)
                    span = (days >= first_missed) & (days < cure_day)
                else:
                    span = days >= first_missed
                dpd[span] = days[span] - first_missed
            else:
                paid[missed_days] = 0.0
                # a partial payment on the instalment before the first miss: an early sign
                before = due_days[due_days < first_missed]
                if len(before) and rng.uniform() < 0.5:
                    paid[before[-1]] = round(instalment * rng.uniform(0.2, 0.6), 2)
                span = days >= first_missed
                dpd[span] = days[span] - first_missed
                if loan_id not in book.sliding and len(missed_days) >= 4 and rng.uniform() < 0.5:
                    # one instalment caught up between the third and fourth miss: dpd drops by a month
                    catch = int(missed_days[2] + rng.integers(5, 25))
                    paid[catch] += instalment
                    dpd[catch:] = days[catch:] - missed_days[1]
        if loan_id in book.healthy:
            paid = due.copy()
        age = age0 + days
        months = age // 30
        balance = np.maximum(principal * (1 - months / term_months), instalment)
        is_default = dpd >= 90
        bucket = np.select(
            [dpd == 0, dpd < 30, dpd < 60, dpd < 90], ["current", "1-29", "30-59", "60-89"], default="90+"
        )
        frames.append(
            pd.DataFrame(
                {
                    "loan_day_key": [f"{loan_id}:{d}" for d in dates.astype(str)],
                    "loan_id": loan_id,
                    "borrower_id": f"B{n:05d}",
                    "performance_date": dates,
                    "product": product,
                    "segment": "retail",
                    "region": "north" if n % 2 else "south",
                    "origination_date": np.datetime64(book.start, "D") - age0,
                    "principal_amount": principal,
                    "interest_rate_pct": 5.5,
                    "balance_amount": np.round(balance, 2),
                    "days_past_due": dpd.astype(np.int64),
                    "delinquency_bucket": bucket,
                    "is_default": is_default,
                    "due_amount": due,
                    "paid_amount": paid,
                    "months_on_book": months.astype(np.int64),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


# ------------------------------------------------------------------------------------------------ market


@dataclass(frozen=True)
class MarketPath:
    """Weekday index returns: calm sd, with high-volatility ``episodes`` (first, last date, daily sd)."""

    start: dt.date = dt.date(2022, 9, 1)
    end: dt.date = dt.date(2024, 8, 30)
    seed: int = 11
    calm_sd: float = 0.008
    episodes: tuple[tuple[dt.date, dt.date, float], ...] = (
        (dt.date(2023, 3, 6), dt.date(2023, 4, 14), 0.03),
        (dt.date(2024, 6, 3), dt.date(2024, 7, 19), 0.035),
    )


def market_index_days(path: MarketPath = MarketPath()) -> pd.DataFrame:
    rng = np.random.default_rng(path.seed)
    dates = [d for d in _dates(path.start, (path.end - path.start).days + 1) if d.weekday() < 5]
    sd = np.full(len(dates), path.calm_sd)
    for first, last, episode_sd in path.episodes:
        sd[[first <= d <= last for d in dates]] = episode_sd
    returns = rng.normal(0.0002, sd)
    returns[0] = np.nan
    level = 100 * np.exp(np.nancumsum(returns))
    peak = pd.Series(level).rolling(252, min_periods=1).max().to_numpy()
    return pd.DataFrame(
        {
            "price_date": dates,
            "instruments_count": 50,
            "index_log_return": returns,
            "index_level": level,
            "drawdown_252d_pct": (level / peak - 1) * 100,
        }
    )


@dataclass(frozen=True)
class TradingBook:
    """Instruments driven by the index (beta, idiosyncratic sd) and one portfolio holding them from ``since``."""

    instruments: tuple[tuple[str, float, float, float], ...] = (  # id, beta, idiosyncratic sd, quantity held
        ("EQ1", 1.2, 0.006, 1000.0),
        ("EQ2", 0.8, 0.008, -300.0),
        ("BD1", 0.1, 0.001, 5000.0),
    )
    portfolio_id: str = "BOOK"
    since: dt.date = dt.date(2023, 11, 1)
    seed: int = 13


def instrument_closes(book: TradingBook = TradingBook()) -> pd.DataFrame:
    """Closes per trading day (rows) and instrument (columns), from the index path."""
    index = market_index_days()
    rng = np.random.default_rng(book.seed)
    r = index["index_log_return"].fillna(0.0).to_numpy()
    closes = {}
    for name, beta, sd, _ in book.instruments:
        log_returns = beta * r + rng.normal(0.0, sd, len(r))
        log_returns[0] = 0.0
        closes[name] = 50.0 * np.exp(np.cumsum(log_returns))
    return pd.DataFrame(closes, index=index["price_date"]).round(4)


def instrument_returns(book: TradingBook = TradingBook()) -> pd.DataFrame:
    closes = instrument_closes(book)
    rows = []
    for name in closes.columns:
        c = closes[name]
        frame = pd.DataFrame({"instrument_id": name, "price_date": c.index, "close_price": c.to_numpy()})
        frame["log_return"] = np.log(c / c.shift(1)).to_numpy()
        frame["simple_return"] = (c / c.shift(1) - 1).to_numpy()
        rows.append(frame)
    out = pd.concat(rows, ignore_index=True)
    out.insert(0, "instrument_day_key", out["instrument_id"] + "|" + out["price_date"].astype(str))
    return out


def portfolio_marts(book: TradingBook = TradingBook()) -> tuple[pd.DataFrame, pd.DataFrame]:
    """fct_portfolio_positions and fct_portfolio_days of a constant book held from ``book.since``."""
    closes = instrument_closes(book)
    closes = closes[closes.index >= book.since]
    quantity = pd.Series({name: q for name, _, _, q in book.instruments})
    values = closes * quantity
    gross = values.abs().sum(axis=1)
    positions = values.stack().rename("market_value_amount").reset_index()
    positions.columns = ["position_date", "instrument_id", "market_value_amount"]
    positions["portfolio_id"] = book.portfolio_id
    positions["quantity"] = positions["instrument_id"].map(quantity)
    positions["close_price"] = [closes.at[d, i] for d, i in zip(positions["position_date"], positions["instrument_id"])]
    positions["gross_weight_pct"] = positions["market_value_amount"].abs() / positions["position_date"].map(gross) * 100
    positions.insert(0, "position_key", book.portfolio_id + "|" + positions["instrument_id"] + "|"
                     + positions["position_date"].astype(str))
    pnl = (closes.diff() * quantity).sum(axis=1)
    dates = list(closes.index)
    days = pd.DataFrame({
        "portfolio_day_key": [f"{book.portfolio_id}|{d}" for d in dates],
        "portfolio_id": book.portfolio_id,
        "position_date": dates,
        "previous_position_date": [None, *dates[:-1]],
        "positions_count": len(quantity),
        "unpriced_positions_count": 0,
        "market_value_amount": values.sum(axis=1).to_numpy(),
        "gross_exposure_amount": gross.to_numpy(),
        "previous_gross_exposure_amount": gross.shift(1).to_numpy(),
        "pnl_amount": [np.nan, *pnl.to_numpy()[1:]],
        "unpriced_holdings_count": 0,
    })
    days["hypothetical_return"] = days["pnl_amount"] / days["previous_gross_exposure_amount"]
    return positions, days


# ------------------------------------------------------------------------------------------------ macro


@dataclass(frozen=True)
class Economies:
    """Quarterly credit-to-GDP ratios; ``boom`` economies add ``boom_pp_per_quarter`` over the last quarters."""

    first_quarter_end: dt.date = dt.date(1995, 3, 31)
    last_quarter_end: dt.date = dt.date(2024, 3, 31)
    publication_lag_days: int = 80
    seed: int = 5
    steady: tuple[str, ...] = ("AA", "CC")
    boom: tuple[str, ...] = ("BB",)
    boom_quarters: int = 10
    boom_pp_per_quarter: float = 2.5
    young: tuple[str, ...] = ("DD",)  # only the last 8 quarters: too short to have a gap


def _quarter_ends(first: dt.date, last: dt.date) -> list[dt.date]:
    out = []
    year, quarter = first.year, (first.month - 1) // 3 + 1
    while True:
        month = quarter * 3
        end = dt.date(year + (month == 12), 1 if month == 12 else month + 1, 1) - dt.timedelta(days=1)
        if end > last:
            return out
        out.append(end)
        year, quarter = (year + 1, 1) if quarter == 4 else (year, quarter + 1)


def systemic_panel(start: dt.date = dt.date(2025, 1, 1), days: int = 180, seed: int = 42) -> tuple[pd.DataFrame, pd.DataFrame]:
    """fct_macro_indicator_quarters and dim_systemic_crises of the generator's 10-economy panel (historical
    crises, a false boom, XC booming at the end), as published by the span's end."""
    from warning_models.generator.macro import MacroSimulator
    from warning_models.generator.span import Span

    sim = MacroSimulator(Span(start, days), 10, np.random.default_rng(seed))
    frames = []
    for e in sim.economies:
        f = pd.DataFrame({"economy_code": e.code, "period_end_date": sim.quarters, "published_date": sim.publication,
                          "credit_to_gdp_pct": e.ratio_pct, "house_price_index": e.house_price,
                          "debt_service_ratio_pct": e.debt_service_pct})
        credit = pd.Series(e.credit_bn)
        f["credit_growth_yoy_pct"] = ((credit / credit.shift(4) - 1) * 100).to_numpy()
        f["house_price_growth_yoy_pct"] = ((f["house_price_index"] / f["house_price_index"].shift(4) - 1) * 100)
        f["credit_to_gdp_change_4q_pp"] = f["credit_to_gdp_pct"] - f["credit_to_gdp_pct"].shift(4)
        frames.append(f)
    panel = pd.concat(frames, ignore_index=True)
    panel.insert(0, "economy_quarter_key", panel["economy_code"] + "|" + panel["period_end_date"].astype(str))
    crises = pd.DataFrame([
        {"crisis_key": f"{c.code}|{c.start_date}", "economy_code": c.code, "crisis_start_date": c.start_date,
         "crisis_end_date": c.end_date, "is_ongoing": False, "crisis_quarters_count": c.end - c.start + 1,
         "published_date": c.end_date + dt.timedelta(days=45)}
        for c in sim.historical_crises
    ])
    return panel, crises


def credit_to_gdp_quarters(spec: Economies = Economies()) -> pd.DataFrame:
    rng = np.random.default_rng(spec.seed)
    quarters = _quarter_ends(spec.first_quarter_end, spec.last_quarter_end)
    rows = []
    for code in (*spec.steady, *spec.boom, *spec.young):
        n = len(quarters)
        noise = np.zeros(n)
        for t in range(1, n):
            noise[t] = 0.6 * noise[t - 1] + rng.normal(0, 0.4)
        ratio = 80 + 0.15 * np.arange(n) + noise
        if code in spec.boom:
            ratio[-spec.boom_quarters :] += spec.boom_pp_per_quarter * np.arange(1, spec.boom_quarters + 1)
        keep = range(n - 8, n) if code in spec.young else range(n)
        gdp = 1000 * 1.01 ** np.arange(n)
        for t in keep:
            gdp_4q = gdp[max(0, t - 3) : t + 1].sum()
            rows.append(
                {
                    "economy_quarter_key": f"{code}:{quarters[t]}",
                    "economy_code": code,
                    "period_end_date": quarters[t],
                    "credit_amount": round(ratio[t] * gdp_4q / 100, 2),
                    "gdp_amount": round(gdp[t], 2),
                    "gdp_4q_amount": round(gdp_4q, 2),
                    "credit_to_gdp_pct": ratio[t],
                    "published_date": quarters[t] + dt.timedelta(days=spec.publication_lag_days),
                }
            )
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------------------------------ access


@dataclass(frozen=True)
class UserActivity:
    """Daily user activity; ``insider`` has an insider-like day and ``busy`` a plain 2x day on ``day``."""

    start: dt.date = dt.date(2024, 3, 1)
    end: dt.date = dt.date(2024, 7, 31)
    n_users: int = 30
    seed: int = 3
    day: dt.date = dt.date(2024, 6, 28)
    insider: str = "u007"
    busy: str = "u003"
    weekend_factor: float = 0.15
    day_noise_sd: float = 0.15
    new_ip_rate: float = 0.01
    overrides: dict[str, dict[str, int]] = field(default_factory=dict)


def user_days(spec: UserActivity = UserActivity()) -> pd.DataFrame:
    rng = np.random.default_rng(spec.seed)
    dates = _dates(spec.start, (spec.end - spec.start).days + 1)
    weekday = np.array([d.weekday() for d in dates])
    n = len(dates)
    frames = []
    for i in range(spec.n_users):
        user = f"u{i:03d}"
        rate = rng.uniform(20, 200) * np.where(weekday >= 5, spec.weekend_factor, 1.0)
        events = rng.poisson(rate * np.exp(rng.normal(0, spec.day_noise_sd, n)))
        rows_per_event = rng.uniform(50, 500)
        rows = np.round(events * rows_per_event * np.exp(rng.normal(0, 0.2, n))).astype(np.int64)
        sensitive_p = 0.05 if i % 2 else 0.0
        frame = pd.DataFrame(
            {
                "user_id": user,
                "activity_date": dates,
                "events_count": events,
                "rows_read": rows,
                "select_count": np.round(events * 0.8).astype(np.int64),
                "export_count": rng.binomial(events, 0.005),
                "failed_login_count": rng.poisson(0.1, n),
                "off_hours_events_count": rng.binomial(events, 0.02),
                "sensitive_object_events_count": rng.binomial(events, sensitive_p),
                "distinct_objects_count": np.minimum(events, rng.poisson(8, n)),
                "distinct_ips_count": np.where(events > 0, 1, 0),
                "new_ip_count": ((rng.uniform(size=n) < spec.new_ip_rate) & (events > 0)).astype(np.int64),
            }
        )
        frames.append(frame)
    out = pd.concat(frames, ignore_index=True)
    on_day = out["activity_date"] == spec.day

    def scale(user: str, column: str, factor: float) -> None:
        mask = on_day & (out["user_id"] == user)
        out.loc[mask, column] = np.round(out.loc[mask, column] * factor).astype(np.int64)

    # an insider-like day: 5x events, bulk export of ~50x rows, off hours, a new IP, sensitive objects
    scale(spec.insider, "events_count", 5)
    scale(spec.insider, "rows_read", 50)
    insider_day = on_day & (out["user_id"] == spec.insider)
    out.loc[insider_day, ["off_hours_events_count", "sensitive_object_events_count", "export_count"]] = [40, 30, 12]
    out.loc[insider_day, ["new_ip_count", "distinct_ips_count"]] = [1, 2]
    # an ordinary busy day: twice the usual work, nothing else unusual
    for column in ("events_count", "rows_read", "select_count", "off_hours_events_count"):
        scale(spec.busy, column, 2)
    # the newer columns come from their own generator, so the columns above keep their values
    extra = np.random.default_rng(spec.seed + 1)
    out["new_network_count"] = out["new_ip_count"] * (extra.uniform(size=len(out)) < 0.5)
    out["new_sensitive_object_count"] = 0
    out["max_session_failed_logins_count"] = np.minimum(out["failed_login_count"], 1)
    out.loc[insider_day, ["new_network_count", "new_sensitive_object_count"]] = [1, 2]
    for user, values in spec.overrides.items():
        mask = on_day & (out["user_id"] == user)
        for column, value in values.items():
            out.loc[mask, column] = value
    out.insert(0, "user_day_key", out["user_id"] + ":" + out["activity_date"].astype(str))
    return out


def user_hours(days: pd.DataFrame, seed: int = 5) -> pd.DataFrame:
    """Each user-day's events spread over hours: off-hours events over 20h-06h, the rest over the user's own
    working hours (a start between 7h and 10h, nine hours long)."""
    rng = np.random.default_rng(seed)
    users = sorted(days["user_id"].unique())
    first_hour = dict(zip(users, rng.integers(7, 11, len(users)).tolist()))
    night = np.r_[20:24, 0:7]
    frames = []
    for user, activity_date, events, off in days[
        ["user_id", "activity_date", "events_count", "off_hours_events_count"]
    ].itertuples(index=False):
        counts = np.zeros(24, dtype=np.int64)
        day_hours = np.arange(first_hour[user], first_hour[user] + 9)
        np.add.at(counts, rng.choice(day_hours, int(events) - int(off)), 1)
        np.add.at(counts, rng.choice(night, int(off)), 1)
        active = np.flatnonzero(counts)
        frames.append(pd.DataFrame({"user_id": user, "activity_date": activity_date, "hour_of_day": active,
                                    "events_count": counts[active]}))
    out = pd.concat(frames, ignore_index=True)
    out.insert(0, "user_hour_key", out["user_id"] + ":" + out["activity_date"].astype(str) + ":" + out["hour_of_day"].astype(str))
    return out


def access_users(days: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Peer groups (three, by user number) and the sensitive objects each user uses: the odd users one each
    from the first day; the insider two more on the insider day, which none of its peers use."""
    spec = UserActivity()
    first = days.groupby("user_id")["activity_date"].min()
    users = pd.DataFrame({"user_id": first.index, "peer_group": [f"group{int(u[1:]) % 3}" for u in first.index],
                          "first_event_date": first.to_numpy()})
    rows = [(u, "core.customer_pii", True, first[u]) for u in first.index if int(u[1:]) % 2]
    rows += [(spec.insider, o, True, spec.day) for o in ("hr.salaries", "cards.card_numbers")]
    objects = pd.DataFrame(rows, columns=["user_id", "object_name", "is_sensitive_object", "first_seen_date"])
    objects.insert(0, "user_object_key", objects["user_id"] + ":" + objects["object_name"])
    return users, objects


def load_marts(conn: psycopg2.extensions.connection, book: LoanBook = LoanBook()) -> None:
    """Create the marts tables as dbt would (owned by the transformer role, so the modeler may read them) and fill
    them with the default synthetic data."""
    with conn.cursor() as cur:
        cur.execute("set role ews_transformer")
        cur.execute(MARTS_DDL)
        cur.execute("reset role")
    copy_frame(conn, "marts.fct_loan_days", loan_days(book))
    copy_frame(conn, "marts.fct_market_index_days", market_index_days())
    copy_frame(conn, "marts.fct_instrument_returns", instrument_returns())
    positions, days = portfolio_marts()
    copy_frame(conn, "marts.fct_portfolio_positions", positions)
    copy_frame(conn, "marts.fct_portfolio_days", days)
    copy_frame(conn, "marts.fct_credit_to_gdp_quarters", credit_to_gdp_quarters())
    panel, crises = systemic_panel()
    copy_frame(conn, "marts.fct_macro_indicator_quarters", panel)
    copy_frame(conn, "marts.dim_systemic_crises", crises)
    access_days = user_days()
    copy_frame(conn, "marts.fct_user_days", access_days)
    copy_frame(conn, "marts.fct_user_hours", user_hours(access_days))
    users, objects = access_users(access_days)
    copy_frame(conn, "marts.dim_access_users", users)
    copy_frame(conn, "marts.dim_access_user_objects", objects)


# A large loan book generated by the server itself (for the speed test): loan i is bad (stops paying for good)
# when i % 9 == 0 (half of them pay one instalment back 70 days in), wobbly (misses 1-3 instalments, then
# catches up) when i % 9 == 1, otherwise always pays.
# With ``separable`` the product gives the bad loans away (every bad loan is a card, no wobbly one is).
BULK_LOAN_DAYS_SQL = """
insert into marts.fct_loan_days
with loans as (
    select i,
           'P' || lpad(i::text, 6, '0') as loan_id,
           (array['card', 'mortgage', 'personal'])[1 + case when %(separable)s then i %% 3 else (i / 9) %% 3 end]
               as product,
           round((2000 + (i * 7919) %% 48000)::numeric, 2) as principal,
           24 + 12 * ((i / 9) %% 3) as term_months,
           i %% 30 as due_offset,
           30 + (i * 13) %% 600 as age0,
           case when i %% 9 = 0 then 1 + (i * 37) %% 170 end as bad_from,
           case when i %% 9 = 1 then 1 + (i * 53) %% 170 end as wobble_from,
           1 + (i / 9) %% 3 as wobble_missed,
           (i / 9) %% 2 = 0 as bad_catches_up
    from generate_series(0, %(n_loans)s - 1) as i
),
marked as (
    select loans.*,
           round(principal / term_months, 2) as instalment,
           bad_from + ((due_offset - bad_from) %% 30 + 30) %% 30 as bad_miss,
           wobble_from + ((due_offset - wobble_from) %% 30 + 30) %% 30 as wobble_miss
    from loans
),
grid as (
    select marked.*, d, (d %% 30 = due_offset) as is_due,
           (bad_miss is not null and d >= bad_miss) as in_bad,
           (bad_catches_up and bad_miss is not null and d >= bad_miss + 70) as caught_up,
           (wobble_miss is not null and d >= wobble_miss and d < wobble_miss + 30 * wobble_missed) as in_wobble
    from marked cross join generate_series(0, %(n_days)s - 1) as d
),
scored as (
    select grid.*,
           case
               when caught_up then d - bad_miss - 30  -- one instalment paid back 70 days in: a month less late
               when in_bad then d - bad_miss
               when in_wobble then d - wobble_miss
               else 0
           end as dpd,
           case when is_due then instalment else 0 end as due,
           case
               when in_bad and bad_catches_up and d = bad_miss + 70 then instalment
               when is_due and (in_bad or in_wobble) then 0
               when is_due and wobble_miss is not null and d = wobble_miss + 30 * wobble_missed
                   then instalment * (wobble_missed + 1)
               when is_due then instalment
               else 0
           end as paid
    from grid
)
select loan_id || ':' || d, loan_id, 'B' || loan_id, %(start)s::date + d, product, 'retail', 'north',
       %(start)s::date - age0, principal, 5.5,
       greatest(principal * (1 - ((age0 + d) / 30)::numeric / term_months), instalment),
       dpd,
       case when dpd = 0 then 'current' when dpd < 30 then '1-29' when dpd < 60 then '30-59'
            when dpd < 90 then '60-89' else '90+' end,
       dpd >= 90, due, paid, (age0 + d) / 30
from scored
"""


def bulk_loan_days(
    conn: psycopg2.extensions.connection, n_loans: int, start: dt.date, n_days: int, *, separable: bool = False
) -> None:
    """Fill marts.fct_loan_days with ``n_loans`` x ``n_days`` rows generated in SQL (seconds, not minutes)."""
    with conn.cursor() as cur:
        cur.execute(
            BULK_LOAN_DAYS_SQL, {"n_loans": n_loans, "n_days": n_days, "start": start, "separable": separable}
        )
        cur.execute("analyze marts.fct_loan_days")
