"""Borrowers, loans and their day-by-day servicing: repayments, balances and days past due.

Amounts are integer cents. Every loan is an annuity: instalment k (1..term) falls due on the origination
day-of-month (capped at 28), k months after origination. Payments are allocated to the oldest instalment
first, so the balance (scheduled principal after the covered instalments, pro rata within a partly covered
one) and the days past due (age of the oldest instalment not fully covered) follow from the cumulative
amount paid alone, and always agree with the repayments file.

A small share of the initial book also borrows from a second institution of the group: the same person (name,
national id, birth date, region, segment, income, latent risk) under another borrower id, with its own loans. It
is what lets institutions match a shared borrower (docs/data_sharing.md).

Payment behaviours: normal payers pay what is due plus any arrears; noise loans miss (or part-pay) one
instalment and catch up at the next; sliding loans (the ground-truth default episodes) part-pay one or two
instalments and then stop, so days past due climb through 90 (the default event).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum, IntEnum

import numpy as np

from warning_models.generator.names import (
    COMPANY_SUFFIXES,
    FIRST_NAMES,
    INSTITUTIONS,
    LAST_NAMES,
    REGIONS,
)
from warning_models.generator.span import (
    Span,
    day_number,
    due_day_numbers,
    iso_dates,
    month_number,
    to_date,
)
from warning_models.generator.truth import Domain, EntityType, Episode, EpisodeKind
from warning_models.generator.writer import Batch, fmt_cents, fmt_ints

DAYS_PER_YEAR = 365.25


class Segment(str, Enum):
    RETAIL = "retail"
    SME = "sme"


class Product(str, Enum):
    MORTGAGE = "mortgage"
    PERSONAL = "personal"
    AUTO = "auto"
    SME_TERM = "sme_term"


SEGMENTS: tuple[Segment, ...] = tuple(Segment)
PRODUCTS: tuple[Product, ...] = tuple(Product)
RETAIL_PRODUCT_SHARES: tuple[tuple[Product, float], ...] = (
    (Product.MORTGAGE, 0.3),
    (Product.PERSONAL, 0.4),
    (Product.AUTO, 0.3),
)


class Behaviour(IntEnum):
    NORMAL = 0
    SLIDING = 1  # ground truth: part-pays one or two instalments, then stops paying
    MISS_ONCE = 2  # noise: misses one instalment, catches up at the next due date
    PARTIAL_ONCE = 3  # noise: part-pays one instalment, catches up at the next due date


@dataclass(frozen=True)
class ProductTerms:
    median_principal_amount: float
    principal_sigma: float
    principal_step_amount: int  # principals are round numbers
    base_rate_pct: float
    rate_spread_pct: float  # how far risk moves the rate
    terms_months: tuple[int, ...]


PRODUCT_TERMS: dict[Product, ProductTerms] = {
    Product.MORTGAGE: ProductTerms(185_000, 0.45, 1_000, 3.9, 0.5, (240, 300, 360)),
    Product.PERSONAL: ProductTerms(12_000, 0.6, 100, 9.5, 2.5, (24, 36, 48, 60, 72, 84)),
    Product.AUTO: ProductTerms(24_000, 0.4, 100, 5.9, 1.2, (36, 48, 60, 72)),
    Product.SME_TERM: ProductTerms(160_000, 0.8, 1_000, 6.8, 1.5, (12, 24, 36, 48, 60, 84)),
}


@dataclass(frozen=True)
class CreditParams:
    second_loan_share: float = 0.7  # initial borrowers with two loans rather than one
    sme_share: float = 0.15
    book_history_days: int = 1826  # initial loans were originated over the 5 years before the span
    sliding_share: float = 0.055  # loans that slide into default (calibrated on the initial book)
    prespan_onset_share: float = 0.2  # sliding loans whose slide began before the span
    prespan_onset_days: int = 85
    miss_once_share: float = 0.05
    partial_once_share: float = 0.02
    new_borrowers_per_weekday: float = 0.0015  # times the initial book size
    new_loans_per_weekday: float = 0.001  # to existing borrowers, times the initial book size
    default_dpd: int = 90
    retail_median_income_amount: float = 42_000
    sme_median_turnover_amount: float = 650_000
    cross_institution_share: float = 0.03  # initial borrowers who also borrow from a second institution


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _first_instalment_on_or_after(target: np.ndarray, orig_month: np.ndarray, dom: np.ndarray) -> np.ndarray:
    """Index k (>= 1) of the first instalment due on or after each target day number."""
    target_d = np.asarray(target, dtype=np.int64).astype("datetime64[D]")
    target_m = target_d.astype("datetime64[M]")
    target_dom = (target_d - target_m.astype("datetime64[D]")).astype(np.int64) + 1
    k = target_m.astype(np.int64) - orig_month + (target_dom > dom).astype(np.int64)
    return np.maximum(k, 1)


def _national_ids(birth: np.ndarray, serial: np.ndarray) -> np.ndarray:
    """11 digits: the birth date as YYMMDD and a 5-digit serial."""
    return np.array(
        [f"{b[2:4]}{b[5:7]}{b[8:10]}{s:05d}" for b, s in zip(iso_dates(birth), serial.tolist())], dtype=object
    )


class _Table:
    """Column arrays that grow by appending rows."""

    def __init__(self) -> None:
        self.cols: dict[str, np.ndarray] = {}

    def __len__(self) -> int:
        return len(next(iter(self.cols.values()))) if self.cols else 0

    def __getitem__(self, name: str) -> np.ndarray:
        return self.cols[name]

    def append(self, **cols: np.ndarray) -> np.ndarray:
        """Append rows; returns their positions."""
        start = len(self)
        if not self.cols:
            self.cols = {k: np.asarray(v) for k, v in cols.items()}
        else:
            if set(cols) != set(self.cols):
                raise ValueError("append needs every column")
            self.cols = {k: np.concatenate([self.cols[k], np.asarray(cols[k])]) for k in self.cols}
        return np.arange(start, len(self))


class CreditSimulator:
    """The loan book: initial book at the span start, daily originations, servicing and default episodes."""

    def __init__(self, span: Span, n_borrowers: int, rng: np.random.Generator, params: CreditParams | None = None):
        self.span = span
        self.params = params or CreditParams()
        self.rng = rng
        self.book_size = n_borrowers
        self.borrowers = _Table()
        self.loans = _Table()
        self._slide_offset = 0.0
        self._log_lti_mean = 0.0
        self._log_lti_std = 1.0
        self._initial_book()
        self._replay_history()

    # ----------------------------------------------------------------- borrowers
    def _profiles(self, n: int) -> dict[str, np.ndarray]:
        """What drives a borrower's loans and risk: segment, income, latent risk."""
        p, rng = self.params, self.rng
        segment = (rng.random(n) < p.sme_share).astype(np.int64)
        median = np.where(segment == 1, p.sme_median_turnover_amount, p.retail_median_income_amount)
        sigma = np.where(segment == 1, 0.8, 0.45)
        income_cents = np.rint(median * np.exp(sigma * rng.standard_normal(n)) * 100).astype(np.int64)
        risk = rng.standard_normal(n)
        return {"segment": segment, "income_cents": income_cents, "risk": risk}

    def _add_borrowers(self, profiles: dict[str, np.ndarray], onboarded: np.ndarray) -> np.ndarray:
        rng, n = self.rng, len(onboarded)
        age_days = np.rint(rng.uniform(19, 68, n) * DAYS_PER_YEAR).astype(np.int64)
        birth = onboarded - age_days
        first = rng.integers(0, len(FIRST_NAMES), n)
        last = rng.integers(0, len(LAST_NAMES), n)
        suffix = rng.integers(0, len(COMPANY_SUFFIXES), n)
        names = np.array(
            [
                f"{LAST_NAMES[ln]} {COMPANY_SUFFIXES[sx]}" if seg == 1 else f"{FIRST_NAMES[fn]} {LAST_NAMES[ln]}"
                for fn, ln, sx, seg in zip(first.tolist(), last.tolist(), suffix.tolist(), profiles["segment"].tolist())
            ],
            dtype=object,
        )
        serial = rng.integers(0, 100_000, n)
        institution = rng.choice(len(INSTITUTIONS), n, p=[w for _, w in INSTITUTIONS])
        region = rng.choice(len(REGIONS), n, p=[w for _, w in REGIONS])
        start = len(self.borrowers)
        return self.borrowers.append(
            number=np.arange(start + 1, start + n + 1, dtype=np.int64),
            institution=institution.astype(np.int64),
            full_name=names,
            national_id=_national_ids(birth, serial),
            serial=serial.astype(np.int64),
            birth=birth.astype(np.int64),
            region=region.astype(np.int64),
            segment=profiles["segment"],
            income_cents=profiles["income_cents"],
            onboarded=np.asarray(onboarded, dtype=np.int64),
            risk=profiles["risk"],
        )

    # --------------------------------------------------------------------- loans
    def _loan_terms(self, segment: np.ndarray, risk: np.ndarray) -> dict[str, np.ndarray]:
        rng, n = self.rng, len(segment)
        retail_choice = rng.choice(
            [PRODUCTS.index(pr) for pr, _ in RETAIL_PRODUCT_SHARES], n, p=[w for _, w in RETAIL_PRODUCT_SHARES]
        )
        product = np.where(segment == 1, PRODUCTS.index(Product.SME_TERM), retail_choice).astype(np.int64)
        z_principal, z_rate = rng.standard_normal(n), rng.standard_normal(n)
        u_term = rng.random(n)
        principal = np.zeros(n, dtype=np.int64)
        rate_bp = np.zeros(n, dtype=np.int64)
        term = np.zeros(n, dtype=np.int64)
        for i, pr in enumerate(PRODUCTS):
            sel = product == i
            t = PRODUCT_TERMS[pr]
            amount = t.median_principal_amount * np.exp(t.principal_sigma * z_principal[sel])
            amount = np.maximum(np.rint(amount / t.principal_step_amount), 1) * t.principal_step_amount
            principal[sel] = (amount * 100).astype(np.int64)
            rate = t.base_rate_pct + t.rate_spread_pct * (0.75 * risk[sel] + 0.66 * z_rate[sel])
            floor_pct = max(0.5, t.base_rate_pct - 1.2 * t.rate_spread_pct)
            rate = np.clip(rate, floor_pct, t.base_rate_pct + 3 * t.rate_spread_pct)
            rate_bp[sel] = np.rint(rate * 100).astype(np.int64)
            term[sel] = np.asarray(t.terms_months)[(u_term[sel] * len(t.terms_months)).astype(np.int64)]
        r = rate_bp / 1_200_000
        # rounded up to the cent: rounded down, the last instalment fell short of the balance it closes (a residual of
        # up to ~0.30 on a long term, which the gate rightly finds in the balance reconciliation)
        annuity = np.ceil(principal * r / (1 - (1 + r) ** (-term.astype(np.float64)))).astype(np.int64)
        return {
            "product": product, "principal_cents": principal, "rate_bp": rate_bp, "term": term, "annuity_cents": annuity
        }

    def _slide_score(self, borrower_rows: np.ndarray, principal_cents: np.ndarray) -> np.ndarray:
        """Risk score without the calibrated offset: latent risk, loan-to-income, SME."""
        b = self.borrowers
        log_lti = np.log(principal_cents / b["income_cents"][borrower_rows])
        z_lti = (log_lti - self._log_lti_mean) / self._log_lti_std
        return 1.0 * b["risk"][borrower_rows] + 0.5 * z_lti + 0.3 * b["segment"][borrower_rows]

    def _behaviours(
        self,
        score: np.ndarray,
        orig: np.ndarray,
        orig_month: np.ndarray,
        dom: np.ndarray,
        term: np.ndarray,
        prespan: bool,
    ) -> dict[str, np.ndarray]:
        """Payment behaviour of new loans: sliding (with its onset instalment), one-off noise, or normal."""
        p, rng, n = self.params, self.rng, len(orig)
        start, end = self.span.start_num, self.span.end_num
        first_due = due_day_numbers(orig_month + 1, dom)
        u_slide, u_when, u_pre, u_noise, u_noise_when = (rng.random(n) for _ in range(5))
        n_partial = rng.integers(1, 3, n)
        frac1, frac2 = rng.uniform(0.5, 0.9, n), rng.uniform(0.5, 0.9, n)
        # sliding: onset target, then the first instalment due on or after it
        if prespan:
            pre = u_pre < p.prespan_onset_share
            target = np.where(
                pre,
                start - 1 - np.floor(u_when * p.prespan_onset_days),
                start + np.floor(u_when * self.span.days),
            ).astype(np.int64)
            window_ok = np.ones(n, dtype=bool)
        else:
            target = (first_due + np.floor(u_when * np.maximum(end - first_due + 1, 0))).astype(np.int64)
            window_ok = first_due <= end
        target = np.maximum(target, first_due)
        k_on = _first_instalment_on_or_after(target, orig_month, dom)
        sliding = (u_slide < _sigmoid(self._slide_offset + score)) & window_ok & (k_on <= term - 2)
        # noise: one missed or part-paid instalment, cured at the next due date
        lo = np.maximum(start - 30, first_due)
        hi = np.maximum(lo, end - 35)
        noise_target = (lo + np.floor(u_noise_when * (hi - lo + 1))).astype(np.int64)
        k_noise = _first_instalment_on_or_after(noise_target, orig_month, dom)
        noise_ok = ~sliding & (k_noise <= term - 1)
        miss = noise_ok & (u_noise < p.miss_once_share)
        partial = noise_ok & (u_noise >= p.miss_once_share) & (u_noise < p.miss_once_share + p.partial_once_share)
        behaviour = np.full(n, Behaviour.NORMAL, dtype=np.int64)
        behaviour[sliding] = Behaviour.SLIDING
        behaviour[miss] = Behaviour.MISS_ONCE
        behaviour[partial] = Behaviour.PARTIAL_ONCE
        special_k = np.where(sliding, k_on, np.where(miss | partial, k_noise, 0)).astype(np.int64)
        return {
            "behaviour": behaviour,
            "special_k": special_k,
            "n_partial": n_partial.astype(np.int64),
            "frac1": frac1,
            "frac2": frac2,
        }

    def _add_loans(
        self,
        borrower_rows: np.ndarray,
        terms: dict[str, np.ndarray],
        orig: np.ndarray,
        behaviours: dict[str, np.ndarray],
    ) -> np.ndarray:
        orig_month, dom = self._schedule_parts(orig)
        start = len(self.loans)
        n = len(orig)
        return self.loans.append(
            number=np.arange(start + 1, start + n + 1, dtype=np.int64),
            borrower=np.asarray(borrower_rows, dtype=np.int64),
            orig=np.asarray(orig, dtype=np.int64),
            orig_month=orig_month,
            dom=dom,
            maturity=due_day_numbers(orig_month + terms["term"], dom),
            cum_paid_cents=np.zeros(n, dtype=np.int64),
            **terms,
            **behaviours,
        )

    @staticmethod
    def _schedule_parts(orig: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        orig_dates = np.asarray(orig, dtype=np.int64).astype("datetime64[D]")
        orig_month = orig_dates.astype("datetime64[M]").astype(np.int64)
        day_of_month = (orig_dates - orig_dates.astype("datetime64[M]").astype("datetime64[D]")).astype(np.int64) + 1
        dom = np.minimum(day_of_month, 28)
        return orig_month, dom

    def _originate(
        self,
        borrower_rows: np.ndarray,
        orig: np.ndarray | None,
        *,
        earliest: np.ndarray | None = None,
        calibrate: bool = False,
    ) -> np.ndarray:
        """New loans for the given borrowers.

        ``orig`` None = drawn before the span (not before ``earliest`` when given). ``calibrate`` (the initial
        book only) fixes the loan-to-income scale and the slide offset that every later loan reuses.
        """
        segment = self.borrowers["segment"][borrower_rows]
        terms = self._loan_terms(segment, self.borrowers["risk"][borrower_rows])
        prespan = orig is None
        if orig is None:
            orig = self._initial_origination(terms["term"], earliest)
        if calibrate:
            log_lti = np.log(terms["principal_cents"] / self.borrowers["income_cents"][borrower_rows])
            self._log_lti_mean, self._log_lti_std = float(log_lti.mean()), float(log_lti.std() or 1.0)
        orig_month, dom = self._schedule_parts(orig)
        score = self._slide_score(borrower_rows, terms["principal_cents"])
        if calibrate:
            self._calibrate(score, eligible=due_day_numbers(orig_month + terms["term"], dom) > self.span.end_num)
        behaviours = self._behaviours(score, orig, orig_month, dom, terms["term"], prespan)
        return self._add_loans(borrower_rows, terms, orig, behaviours)

    def _initial_origination(self, term: np.ndarray, earliest: np.ndarray | None = None) -> np.ndarray:
        """Origination days over the book history (not before ``earliest``) such that every loan is still running
        at the span start."""
        start = self.span.start_num
        longest = np.minimum(self.params.book_history_days, np.floor(term * 30.4).astype(np.int64) - 20)
        if earliest is not None:
            longest = np.minimum(longest, start - np.asarray(earliest, dtype=np.int64))
        back = 1 + np.floor(self.rng.random(len(term)) * longest).astype(np.int64)
        while True:
            orig = start - back
            orig_month, dom = self._schedule_parts(orig)
            matured = due_day_numbers(orig_month + term, dom) < start
            if not matured.any():
                return orig
            back = np.where(matured, np.maximum(back // 2, 1), back)

    def _calibrate(self, score: np.ndarray, eligible: np.ndarray) -> None:
        """Fix the logit offset so that about ``sliding_share`` of the initial book slides."""
        lo, hi = -15.0, 5.0
        for _ in range(60):
            mid = (lo + hi) / 2
            if (_sigmoid(mid + score) * eligible).mean() < self.params.sliding_share:
                lo = mid
            else:
                hi = mid
        self._slide_offset = (lo + hi) / 2

    # -------------------------------------------------------------- initial book
    def _initial_book(self) -> None:
        p, rng, n = self.params, self.rng, self.book_size
        profiles = self._profiles(n)
        counts = 1 + (rng.random(n) < p.second_loan_share).astype(np.int64)
        owners = np.repeat(np.arange(n), counts)
        # onboarding is only known once the loans are drawn: add borrowers with a placeholder, fix below
        rows = self._add_borrowers(profiles, np.full(n, self.span.start_num - 1, dtype=np.int64))
        loan_rows = self._originate(rows[owners], None, calibrate=True)
        first_orig = np.full(n, np.iinfo(np.int64).max)
        np.minimum.at(first_orig, owners, self.loans["orig"][loan_rows])
        onboarded = first_orig - rng.integers(0, 1500, n)
        shift = onboarded - self.borrowers["onboarded"][rows]
        self.borrowers["onboarded"][rows] = onboarded
        self.borrowers["birth"][rows] += shift
        b = self.borrowers
        b["national_id"][rows] = _national_ids(b["birth"][rows], b["serial"][rows])
        self._add_second_relationships(rows)

    @contextmanager
    def _drawing_from(self, rng: np.random.Generator) -> Iterator[None]:
        """Draw from ``rng`` instead of the credit stream inside the block."""
        saved, self.rng = self.rng, rng
        try:
            yield
        finally:
            self.rng = saved

    def _add_second_relationships(self, rows: np.ndarray) -> None:
        """Some initial borrowers also borrow from a second institution: a new borrower row (another institution,
        borrower id and onboarding date, the same person) with its own loans drawn before the span.

        The draws come from a child of the credit stream, so every other borrower, loan and later draw is the one
        the book would have without them (only the numbers of later borrowers and loans move up).
        """
        p, b = self.params, self.borrowers
        if p.cross_institution_share <= 0 or len(INSTITUTIONS) < 2:
            return
        child = self.rng.spawn(1)[0]
        shared = rows[child.random(len(rows)) < p.cross_institution_share]
        n = len(shared)
        if n == 0:
            return
        # the second institution: the group's shares, renormalised over the institutions the borrower is not at
        weights = np.tile(np.array([w for _, w in INSTITUTIONS]), (n, 1))
        weights[np.arange(n), b["institution"][shared]] = 0.0
        cumulative = np.cumsum(weights / weights.sum(axis=1, keepdims=True), axis=1)
        other = np.minimum((child.random(n)[:, None] > cumulative).sum(axis=1), len(INSTITUTIONS) - 1)
        # onboarded there between the first onboarding and the day before the span
        first = b["onboarded"][shared]
        onboarded = first + np.floor(child.random(n) * (self.span.start_num - first)).astype(np.int64)
        start = len(b)
        new_rows = b.append(
            number=np.arange(start + 1, start + n + 1, dtype=np.int64),
            institution=other.astype(np.int64),
            onboarded=onboarded,
            **{
                name: b[name][shared]
                for name in ("full_name", "national_id", "serial", "birth", "region", "segment", "income_cents", "risk")
            },
        )
        counts = 1 + (child.random(n) < p.second_loan_share).astype(np.int64)
        owners = np.repeat(np.arange(n), counts)
        with self._drawing_from(child):
            self._originate(new_rows[owners], None, earliest=onboarded[owners])

    def _replay_history(self) -> None:
        """Apply every instalment due before the span start, so the first day opens with the right state."""
        loans, s = self.loans, self.span.start
        before = month_number(s) - loans["orig_month"] - (s.day <= loans["dom"]).astype(np.int64)
        n_before = np.clip(before, 0, loans["term"])
        for k in range(1, int(n_before.max(initial=0)) + 1):
            idx = np.flatnonzero(n_before >= k)
            loans["cum_paid_cents"][idx] += self._payments(idx, np.full(len(idx), k))

    # ------------------------------------------------------------------ servicing
    def _payments(self, idx: np.ndarray, k: np.ndarray) -> np.ndarray:
        """Cents received for instalment k of each loan on its due date."""
        L = self.loans
        annuity = L["annuity_cents"][idx]
        arrears = (k - 1) * annuity - L["cum_paid_cents"][idx]
        paid = annuity + arrears
        beh, sk = L["behaviour"][idx], L["special_k"][idx]
        frac = np.where(k == sk, L["frac1"][idx], L["frac2"][idx])
        part_amount = np.rint(annuity * frac).astype(np.int64)
        sliding = beh == Behaviour.SLIDING
        paid = np.where(sliding & (k >= sk) & (k < sk + L["n_partial"][idx]), part_amount, paid)
        paid = np.where(sliding & (k >= sk + L["n_partial"][idx]), 0, paid)
        paid = np.where((beh == Behaviour.MISS_ONCE) & (k == sk), 0, paid)
        paid = np.where((beh == Behaviour.PARTIAL_ONCE) & (k == sk), part_amount, paid)
        return paid.astype(np.int64)

    def _repayments(self, day: dt.date) -> Batch:
        L = self.loans
        m = month_number(day)
        k_all = m - L["orig_month"]
        due = np.flatnonzero((L["dom"] == day.day) & (k_all >= 1) & (k_all <= L["term"]))
        k = k_all[due]
        paid = self._payments(due, k)
        L["cum_paid_cents"][due] += paid
        stamp = f"{day.year:04d}{day.month:02d}"
        iso = day.isoformat()
        return {
            "repayment_id": [f"L{n:06d}-{stamp}" for n in L["number"][due].tolist()],
            "loan_id": [f"L{n:06d}" for n in L["number"][due].tolist()],
            "due_date": [iso] * len(due),
            "due_amount": fmt_cents(L["annuity_cents"][due]),
            "paid_amount": fmt_cents(paid),
        }

    def _performance(self, day: dt.date) -> Batch:
        L = self.loans
        d = day_number(day)
        annuity, term = L["annuity_cents"], L["term"]
        live = np.flatnonzero(
            (L["orig"] <= d) & ~((d > L["maturity"]) & (L["cum_paid_cents"] >= term * annuity))
        )
        A, n, cum = annuity[live], term[live], L["cum_paid_cents"][live]
        principal = L["principal_cents"][live].astype(np.float64)
        covered = np.minimum(cum // A, n)
        frac = np.where(covered < n, (cum - covered * A) / A, 0.0)
        r = L["rate_bp"][live] / 1_200_000
        growth = 1 + r

        def scheduled(k: np.ndarray) -> np.ndarray:
            g = growth ** k.astype(np.float64)
            return np.where(k >= n, 0.0, principal * g - A * (g - 1) / r)

        balance = scheduled(covered) - frac * (scheduled(covered) - scheduled(covered + 1))
        balance_cents = np.clip(np.rint(balance), 0, principal).astype(np.int64)
        orig_month, dom = L["orig_month"][live], L["dom"][live]
        n_due = np.clip(month_number(day) - orig_month - (day.day < dom).astype(np.int64), 0, n)
        oldest_unpaid_due = due_day_numbers(orig_month + covered + 1, dom)
        dpd = np.where(covered < n_due, d - oldest_unpaid_due, 0)
        return {
            "loan_id": [f"L{x:06d}" for x in L["number"][live].tolist()],
            "performance_date": [day.isoformat()] * len(live),
            "balance_amount": fmt_cents(balance_cents),
            "days_past_due": fmt_ints(dpd),
        }

    # ---------------------------------------------------------------------- days
    def _new_business(self, day: dt.date) -> tuple[np.ndarray, np.ndarray]:
        """Borrowers onboarded and loans originated on a business date (weekdays only)."""
        if day.weekday() >= 5:
            return np.arange(0), np.arange(0)
        p, rng, d = self.params, self.rng, day_number(day)
        n_new = int(rng.poisson(p.new_borrowers_per_weekday * self.book_size))
        n_more = int(rng.poisson(p.new_loans_per_weekday * self.book_size))
        existing = len(self.borrowers)
        new_rows = self._add_borrowers(self._profiles(n_new), np.full(n_new, d, dtype=np.int64))
        owners = np.concatenate([new_rows, np.sort(rng.integers(0, existing, n_more))]).astype(np.int64)
        loan_rows = self._originate(owners, np.full(len(owners), d, dtype=np.int64))
        return new_rows, loan_rows

    def step(self, day: dt.date) -> dict[str, Batch]:
        """The four credit batches of one business date."""
        if day == self.span.start:
            new_borrowers, new_loans = np.arange(len(self.borrowers)), np.arange(len(self.loans))
        else:
            new_borrowers, new_loans = self._new_business(day)
        return {
            "borrowers": self._borrower_batch(new_borrowers),
            "loans": self._loan_batch(new_loans),
            "repayments": self._repayments(day),
            "loan_performance": self._performance(day),
        }

    def _borrower_batch(self, rows: np.ndarray) -> Batch:
        B = self.borrowers
        return {
            "borrower_id": [f"B{n:06d}" for n in B["number"][rows].tolist()],
            "institution_id": [INSTITUTIONS[i][0] for i in B["institution"][rows].tolist()],
            "full_name": B["full_name"][rows].tolist(),
            "national_id": B["national_id"][rows].tolist(),
            "birth_date": iso_dates(B["birth"][rows]),
            "region": [REGIONS[i][0] for i in B["region"][rows].tolist()],
            "segment": [SEGMENTS[i].value for i in B["segment"][rows].tolist()],
            "annual_income_amount": fmt_cents(B["income_cents"][rows]),
            "onboarded_date": iso_dates(B["onboarded"][rows]),
        }

    def _loan_batch(self, rows: np.ndarray) -> Batch:
        L = self.loans
        return {
            "loan_id": [f"L{n:06d}" for n in L["number"][rows].tolist()],
            "borrower_id": [f"B{n:06d}" for n in self.borrowers["number"][L["borrower"][rows]].tolist()],
            "product": [PRODUCTS[i].value for i in L["product"][rows].tolist()],
            "origination_date": iso_dates(L["orig"][rows]),
            "principal_amount": fmt_cents(L["principal_cents"][rows]),
            "interest_rate_pct": fmt_cents(L["rate_bp"][rows]),
            "term_months": fmt_ints(L["term"][rows]),
        }

    # ------------------------------------------------------------------- truth
    def episodes(self) -> list[Episode]:
        """Sliding loans whose slide began on or before the span's last date."""
        L = self.loans
        rows = np.flatnonzero(L["behaviour"] == Behaviour.SLIDING)
        k_on, A = L["special_k"][rows], L["annuity_cents"][rows]
        onset = due_day_numbers(L["orig_month"][rows] + k_on, L["dom"][rows])
        keep = onset <= self.span.end_num
        rows, k_on, A, onset = rows[keep], k_on[keep], A[keep], onset[keep]
        frac1, frac2 = L["frac1"][rows], L["frac2"][rows]
        paid = np.rint(A * frac1).astype(np.int64) + np.where(
            L["n_partial"][rows] == 2, np.rint(A * frac2).astype(np.int64), 0
        )
        covered = (k_on - 1) + paid // A
        event = due_day_numbers(L["orig_month"][rows] + covered + 1, L["dom"][rows]) + self.params.default_dpd
        borrower_numbers = self.borrowers["number"][L["borrower"][rows]]
        out = []
        columns = (L["number"][rows], borrower_numbers, onset, event)
        for num, b_num, on, ev in zip(*(c.tolist() for c in columns)):
            loan_id = f"L{num:06d}"
            out.append(
                Episode(
                    episode_id=f"credit-{loan_id}",
                    domain=Domain.CREDIT,
                    kind=EpisodeKind.DEFAULT,
                    entity_type=EntityType.LOAN,
                    entity_id=loan_id,
                    borrower_id=f"B{b_num:06d}",
                    onset_date=to_date(on),
                    event_date=to_date(ev) if ev <= self.span.end_num else None,
                    end_date=None,
                )
            )
        return out
