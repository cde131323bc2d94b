"""Data-access events of the bank's users, with insider episodes (one per ten users, at least three) and some benign
busy days.

Every user has a role, one or two home IPs, working hours (UTC), a weekday event rate (weekends ~10 %), a usual
set of ``schema.table`` objects and a typical ``rows_read``. A working day opens with a login (now and then
after a failed one), followed by selects, some updates and rare exports. An insider's episode (4-8 days) shows
3-6x the usual volume, off-hours sessions from a client IP never seen before, reads of sensitive objects, and
on its last one or two days bulk exports of 20-100x the usual rows. Every second insider is quiet instead: office
hours from the usual IP, 1.3-2x the usual volume, reads of sensitive objects the user never needed, and on the
last one or two days a few exports of 5-15x the usual rows (truth kind ``quiet_insider``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import Enum

import numpy as np

from warning_models.generator.span import Span
from warning_models.generator.truth import Domain, EntityType, Episode, EpisodeKind
from warning_models.generator.writer import Batch, fmt_ints

SECONDS_PER_DAY = 86_400
HOUR = 3_600


class Role(str, Enum):
    ANALYST = "analyst"
    RISK = "risk"
    TELLER = "teller"
    ADMIN = "admin"
    DBA = "dba"


class Action(str, Enum):
    LOGIN = "login"
    LOGIN_FAILED = "login_failed"
    SELECT = "select"
    EXPORT = "export"
    UPDATE = "update"


ROLES: tuple[Role, ...] = tuple(Role)
ACTIONS: tuple[Action, ...] = tuple(Action)
ROLE_SHARES: dict[Role, float] = {
    Role.ANALYST: 0.4, Role.RISK: 0.2, Role.TELLER: 0.25, Role.ADMIN: 0.08, Role.DBA: 0.07
}
# Share of update and export among a role's non-login events (the rest are selects).
ROLE_UPDATE_EXPORT: dict[Role, tuple[float, float]] = {
    Role.ANALYST: (0.03, 0.012),
    Role.RISK: (0.07, 0.008),
    Role.TELLER: (0.28, 0.001),
    Role.ADMIN: (0.2, 0.004),
    Role.DBA: (0.25, 0.004),
}
ROLE_SCHEMAS: dict[Role, tuple[str, ...]] = {
    Role.ANALYST: ("loans", "risk", "dwh", "marketing", "finance", "cards"),
    Role.RISK: ("risk", "loans", "treasury", "dwh", "finance"),
    Role.TELLER: ("core", "payments", "cards", "loans"),
    Role.ADMIN: ("ops", "core", "dwh", "finance"),
    Role.DBA: ("ops", "core", "loans", "cards", "payments", "risk", "finance", "treasury", "dwh", "marketing"),
}
# A sensitive object some roles touch now and then in their normal work.
ROLE_USUAL_SENSITIVE: dict[Role, str | None] = {
    Role.ANALYST: None,
    Role.RISK: "risk.watchlist_hits",
    Role.TELLER: "core.customer_pii",
    Role.ADMIN: "hr.employee_records",
    Role.DBA: None,
}

SENSITIVE_OBJECTS: tuple[str, ...] = (
    "cards.card_numbers",
    "cards.card_security",
    "core.customer_pii",
    "core.national_ids",
    "hr.employee_records",
    "hr.employee_salaries",
    "payments.beneficiary_accounts",
    "risk.watchlist_hits",
)
OBJECT_CATALOG: tuple[str, ...] = tuple(
    sorted(
        SENSITIVE_OBJECTS
        + (
            "core.customers", "core.accounts", "core.account_balances", "core.branches",
            "loans.loan_book", "loans.repayment_schedule", "loans.collateral", "loans.applications",
            "loans.credit_scores", "cards.card_accounts", "cards.transactions", "cards.merchants",
            "payments.transfers", "payments.standing_orders", "payments.fx_rates", "risk.limits",
            "risk.exposures", "risk.rating_history", "risk.provisions", "finance.general_ledger",
            "finance.cost_centres", "finance.budgets", "treasury.positions", "treasury.curves",
            "treasury.trades", "ops.tickets", "ops.batch_jobs", "ops.audit_log",
            "marketing.campaigns", "marketing.segments", "dwh.daily_kpis", "dwh.branch_performance",
        )
    )
)
IS_SENSITIVE = np.array([o in SENSITIVE_OBJECTS for o in OBJECT_CATALOG])
NO_OBJECT = -1


@dataclass(frozen=True)
class AccessParams:
    rate_per_weekday: tuple[float, float] = (15.0, 80.0)
    weekend_factor: float = 0.1
    start_hour: tuple[float, float] = (7.0, 9.5)
    end_hour: tuple[float, float] = (16.5, 19.0)
    second_ip_share: float = 0.3
    second_ip_day_share: float = 0.2
    failed_login_day_share: float = 0.03
    busy_day_share: float = 0.02
    usual_sensitive_weight: float = 0.03
    min_insiders: int = 3
    users_per_insider: int = 10  # one insider episode per this many users, at least min_insiders
    insider_earliest_day: int = 35
    insider_days: tuple[int, int] = (4, 8)
    insider_rate_factor: tuple[float, float] = (3.0, 6.0)
    insider_off_hours_share: tuple[float, float] = (0.3, 0.5)
    insider_sensitive_share: float = 0.3
    insider_exports: tuple[int, int] = (3, 8)
    insider_export_rows_factor: tuple[float, float] = (20.0, 100.0)
    # Every second insider is quiet: office hours, the user's own desk, a little more work than usual, reads of
    # sensitive objects the user never needed, then a few exports of modest size.
    quiet_rate_factor: tuple[float, float] = (1.3, 2.0)
    quiet_sensitive_share: float = 0.15
    quiet_exports: tuple[int, int] = (2, 4)
    quiet_export_rows_factor: tuple[float, float] = (5.0, 15.0)


@dataclass(frozen=True)
class InsiderEpisode:
    user: int
    first_day: int  # offset in the span
    n_days: int
    n_export_days: int  # the last 1-2 days of the episode
    rate_factor: float
    off_hours_share: float
    new_ip: str
    targets: tuple[int, ...]  # sensitive objects (catalog positions) the insider goes after
    quiet: bool = False  # office hours from the usual IP, modest volumes (AccessParams.quiet_*)
    sensitive_share: float = 0.3  # share of the insider's selects that go to the targets

    def is_active(self, offset: int) -> bool:
        return self.first_day <= offset < self.first_day + self.n_days

    def is_export_day(self, offset: int) -> bool:
        return self.first_day + self.n_days - self.n_export_days <= offset < self.first_day + self.n_days


class AccessSimulator:
    """Users, their habits and their events, one business date at a time."""

    def __init__(self, span: Span, n_users: int, rng: np.random.Generator, params: AccessParams | None = None):
        p = self.params = params or AccessParams()
        self.span, self.rng, self.n_users = span, rng, n_users
        self.user_ids = [f"U{i:03d}" for i in range(1, n_users + 1)]
        self.role = rng.choice(len(ROLES), n_users, p=[ROLE_SHARES[r] for r in ROLES])
        self.rate = rng.uniform(*p.rate_per_weekday, n_users)
        self.start_s = rng.uniform(*p.start_hour, n_users) * HOUR
        self.end_s = rng.uniform(*p.end_hour, n_users) * HOUR
        self.median_rows = np.exp(rng.uniform(np.log(20), np.log(800), n_users))
        self.ips = self._home_ips()
        self.object_cum = self._usual_objects()
        self.action_cum = np.array(
            [np.cumsum([1 - sum(ROLE_UPDATE_EXPORT[ROLES[r]]), *ROLE_UPDATE_EXPORT[ROLES[r]]]) for r in self.role]
        ).reshape(n_users, 3)
        self.insiders = self._plan_insiders()

    def _home_ips(self) -> list[list[str]]:
        """One or two office IPs per user, unique, in its role's networks (10.<block>.<role network>.<host>).

        A bank of up to 999 users draws from block 20 alone (2,530 addresses a role); a larger one spreads over
        one more block per 1,000 users (blocks 20..98: the insiders' new IPs are 10.99 and above)."""
        rng, seen, out = self.rng, set(), []
        blocks = min(1 + self.n_users // 1000, 79)
        for u in range(self.n_users):
            n_ips = 2 if rng.random() < self.params.second_ip_share else 1
            ips: list[str] = []
            while len(ips) < n_ips:
                block = 20 + int(rng.integers(0, blocks)) if blocks > 1 else 20
                ip = f"10.{block}.{10 * (int(self.role[u]) + 1) + int(rng.integers(0, 10))}.{int(rng.integers(2, 255))}"
                if ip not in seen:
                    seen.add(ip)
                    ips.append(ip)
            out.append(ips)
        return out

    def _usual_objects(self) -> np.ndarray:
        """Cumulative object-choice probabilities per user over the catalog."""
        rng, p = self.rng, self.params
        weights = np.zeros((self.n_users, len(OBJECT_CATALOG)))
        for u in range(self.n_users):
            role = ROLES[int(self.role[u])]
            pool = [
                i for i, o in enumerate(OBJECT_CATALOG)
                if o.split(".")[0] in ROLE_SCHEMAS[role] and not IS_SENSITIVE[i]
            ]
            k = min(len(pool), int(rng.integers(6, 13)))
            chosen = rng.choice(pool, k, replace=False)
            weights[u, chosen] = rng.gamma(1.0, 1.0, k)
            weights[u] /= weights[u].sum()
            usual = ROLE_USUAL_SENSITIVE[role]
            if usual is not None:
                weights[u] *= 1 - p.usual_sensitive_weight
                weights[u, OBJECT_CATALOG.index(usual)] = p.usual_sensitive_weight
        cum = np.cumsum(weights, axis=1)
        cum[:, -1] = 1.0
        return cum

    def _plan_insiders(self) -> list[InsiderEpisode]:
        """Episodes spread over the span after the first 35 days (clamped to fit short spans)."""
        p, rng, days = self.params, self.rng, self.span.days
        n = min(max(p.min_insiders, self.n_users // p.users_per_insider), self.n_users)
        users = rng.choice(self.n_users, n, replace=False) if n else np.array([], dtype=np.int64)
        longest = p.insider_days[1]
        earliest = min(p.insider_earliest_day, max(0, days - longest))
        latest = max(earliest, days - longest)
        edges = np.linspace(earliest, latest + 1, n + 1)
        out = []
        for i, user in enumerate(users.tolist()):
            quiet = i % 2 == 1
            n_days = min(int(rng.integers(p.insider_days[0], p.insider_days[1] + 1)), days)
            first = int(np.floor(edges[i] + rng.random() * (edges[i + 1] - edges[i])))
            first = max(0, min(first, days - n_days))
            n_export = min(int(rng.integers(1, 3)), n_days)
            usual = set(np.flatnonzero(np.diff(np.r_[0.0, self.object_cum[user]]) > 0).tolist())
            candidates = [j for j in np.flatnonzero(IS_SENSITIVE).tolist() if j not in usual]
            targets = tuple(sorted(rng.choice(candidates, int(rng.integers(2, 5)), replace=False).tolist()))
            out.append(
                InsiderEpisode(
                    user=int(user),
                    first_day=first,
                    n_days=n_days,
                    n_export_days=n_export,
                    rate_factor=float(rng.uniform(*(p.quiet_rate_factor if quiet else p.insider_rate_factor))),
                    off_hours_share=0.0 if quiet else float(rng.uniform(*p.insider_off_hours_share)),
                    new_ip=f"10.{99 + i // 254}.{i % 254 + 1}.{int(rng.integers(2, 255))}",
                    targets=targets,
                    quiet=quiet,
                    sensitive_share=p.quiet_sensitive_share if quiet else p.insider_sensitive_share,
                )
            )
        return out

    # ------------------------------------------------------------------- days
    def events(self, day: dt.date) -> Batch:
        """The day's events in time order, numbered E<YYYYMMDD>-nnnnn."""
        p, rng, U = self.params, self.rng, self.n_users
        offset = (day - self.span.start).days
        weekday = day.weekday() < 5
        lam = self.rate * (1.0 if weekday else p.weekend_factor)
        end_s = self.end_s.copy()
        busy = rng.random(U) < p.busy_day_share
        lam = np.where(busy, 2 * lam, lam)
        end_s = np.where(busy, np.minimum(end_s + rng.uniform(0, 2, U) * HOUR, 21.5 * HOUR), end_s)
        active = [e for e in self.insiders if e.is_active(offset)]
        for e in active:
            lam[e.user] = self.rate[e.user] * e.rate_factor * (1.0 if weekday else 0.5)
        counts = rng.poisson(lam)
        user = np.repeat(np.arange(U), counts)
        n = len(user)
        times = self.start_s[user] + rng.random(n) * (end_s[user] - self.start_s[user])
        # actions and objects from the user's habits
        u_act = rng.random(n)
        act_idx = (u_act[:, None] > self.action_cum[user]).sum(axis=1)
        habitual = np.array([ACTIONS.index(a) for a in (Action.SELECT, Action.UPDATE, Action.EXPORT)])
        action = habitual[np.minimum(act_idx, 2)]
        u_obj = rng.random(n)
        obj = np.minimum((u_obj[:, None] > self.object_cum[user]).sum(axis=1), len(OBJECT_CATALOG) - 1)
        rows = np.where(
            action == ACTIONS.index(Action.SELECT),
            np.rint(self.median_rows[user] * np.exp(0.9 * rng.standard_normal(n))),
            0,
        )
        rows = np.where(
            action == ACTIONS.index(Action.EXPORT),
            np.rint(3 * self.median_rows[user] * np.exp(0.7 * rng.standard_normal(n))),
            rows,
        )
        use_second = rng.random(U) < p.second_ip_day_share
        ip_choice = np.array([1 if use_second[u] and len(self.ips[u]) > 1 else 0 for u in range(U)])
        ips = np.array([self.ips[u][ip_choice[u]] for u in range(U)], dtype=object)
        ip = ips[user]
        parts = [(user, times, action, obj, rows, ip)]
        for e in active:
            parts.extend(self._insider_day(e, offset, user, times, action, obj, rows, ip))
        user, times, action, obj, rows, ip = (np.concatenate(c) for c in zip(*parts))
        user, times, action, obj, rows, ip = self._with_logins(user, times, action, obj, rows, ip)
        return self._batch(day, user, times, action, obj, rows, ip)

    def _insider_day(
        self, e: InsiderEpisode, offset: int, user: np.ndarray, times: np.ndarray, action: np.ndarray,
        obj: np.ndarray, rows: np.ndarray, ip: np.ndarray,
    ) -> list[tuple[np.ndarray, ...]]:
        """Rewrite the insider's regular events (the arrays are changed in place) and return extra export events."""
        p, rng = self.params, self.rng
        mine = np.flatnonzero(user == e.user)
        off = mine[rng.random(len(mine)) < e.off_hours_share]
        times[off] = (20 * HOUR + rng.random(len(off)) * 9 * HOUR) % SECONDS_PER_DAY
        ip[off] = e.new_ip
        selects = mine[action[mine] == ACTIONS.index(Action.SELECT)]
        snoop = selects[rng.random(len(selects)) < e.sensitive_share]
        obj[snoop] = np.asarray(e.targets)[rng.integers(0, len(e.targets), len(snoop))]
        if not e.is_export_day(offset):
            return []
        exports, rows_factor = (p.quiet_exports, p.quiet_export_rows_factor) if e.quiet else (
            p.insider_exports, p.insider_export_rows_factor
        )
        k = int(rng.integers(exports[0], exports[1] + 1))
        med = self.median_rows[e.user]
        if e.quiet:  # in office hours, from the desk
            start, end = self.start_s[e.user], self.end_s[e.user]
            when = start + rng.random(k) * (end - start)
            where = self.ips[e.user][0]
        else:  # at night, from a new address
            when = (20 * HOUR + rng.random(k) * 9 * HOUR) % SECONDS_PER_DAY
            where = e.new_ip
        return [
            (
                np.full(k, e.user),
                when,
                np.full(k, ACTIONS.index(Action.EXPORT)),
                np.asarray(e.targets)[rng.integers(0, len(e.targets), k)],
                np.rint(med * rng.uniform(*rows_factor, k)),
                np.full(k, where, dtype=object),
            )
        ]

    def _with_logins(
        self, user: np.ndarray, times: np.ndarray, action: np.ndarray, obj: np.ndarray, rows: np.ndarray, ip: np.ndarray
    ) -> tuple[np.ndarray, ...]:
        """A login before each user's first event from each client IP; now and then failed attempts first."""
        rng = self.rng
        times = np.floor(times).astype(np.int64)
        sessions: dict[tuple[int, str], int] = {}
        for u, t, a in zip(user.tolist(), times.tolist(), ip.tolist()):
            key = (u, a)
            if key not in sessions or t < sessions[key]:
                sessions[key] = t
        keys = sorted(sessions)
        s_user = np.array([k[0] for k in keys], dtype=np.int64)
        s_ip = np.array([k[1] for k in keys], dtype=object)
        s_time = np.maximum(np.array([sessions[k] for k in keys], dtype=np.int64) - rng.integers(5, 121, len(keys)), 0)
        failed = rng.random(len(keys)) < self.params.failed_login_day_share
        f_time = np.maximum(s_time[failed] - rng.integers(10, 91, int(failed.sum())), 0)
        login, login_failed = ACTIONS.index(Action.LOGIN), ACTIONS.index(Action.LOGIN_FAILED)
        return (
            np.concatenate([user, s_user, s_user[failed]]),
            np.concatenate([times, s_time, f_time]),
            np.concatenate([action, np.full(len(keys), login), np.full(int(failed.sum()), login_failed)]),
            np.concatenate([obj, np.full(len(keys) + int(failed.sum()), NO_OBJECT)]),
            np.concatenate([rows, np.zeros(len(keys) + int(failed.sum()))]).astype(np.int64),
            np.concatenate([ip, s_ip, s_ip[failed]]),
        )

    def _batch(
        self, day: dt.date, user: np.ndarray, times: np.ndarray, action: np.ndarray, obj: np.ndarray,
        rows: np.ndarray, ip: np.ndarray,
    ) -> Batch:
        # failed logins sort before the login at the same second, logins before everything else
        action_rank = np.select(
            [action == ACTIONS.index(Action.LOGIN_FAILED), action == ACTIONS.index(Action.LOGIN)], [0, 1], 2
        )
        order = np.lexsort((obj, action, action_rank, user, times))
        user, times, action, obj, rows, ip = (a[order] for a in (user, times, action, obj, rows, ip))
        stamp, iso = day.strftime("%Y%m%d"), day.isoformat()
        hh, rem = np.divmod(times, HOUR)
        mm, ss = np.divmod(rem, 60)
        return {
            "event_id": [f"E{stamp}-{i:05d}" for i in range(1, len(user) + 1)],
            "event_at": [
                f"{iso}T{h:02d}:{m:02d}:{s:02d}+00:00" for h, m, s in zip(hh.tolist(), mm.tolist(), ss.tolist())
            ],
            "user_id": [self.user_ids[u] for u in user.tolist()],
            "client_ip": ip.tolist(),
            "action": [ACTIONS[a].value for a in action.tolist()],
            "object_name": ["" if o == NO_OBJECT else OBJECT_CATALOG[o] for o in obj.tolist()],
            "rows_read": fmt_ints(rows),
        }

    def episodes(self) -> list[Episode]:
        out = []
        for e in self.insiders:
            start = self.span.start
            uid = self.user_ids[e.user]
            out.append(
                Episode(
                    episode_id=f"access-{uid}",
                    domain=Domain.ACCESS,
                    kind=EpisodeKind.QUIET_INSIDER if e.quiet else EpisodeKind.INSIDER,
                    entity_type=EntityType.USER,
                    entity_id=uid,
                    onset_date=start + dt.timedelta(days=e.first_day),
                    event_date=start + dt.timedelta(days=e.first_day + e.n_days - e.n_export_days),
                    end_date=start + dt.timedelta(days=e.first_day + e.n_days - 1),
                )
            )
        return out
