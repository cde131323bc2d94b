"""Generate a whole synthetic bank: every landing file of the span plus the ground-truth file.

Each domain draws from its own random stream (spawned from the seed), so the same config gives byte-identical
files, and a change in one domain's size does not reshuffle another's. New streams are appended after the
existing ones: ``SeedSequence(seed).spawn(n)`` gives the same first children for any n, so adding one leaves
the earlier domains' draws unchanged.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, fields
from pathlib import Path

import numpy as np
from tqdm import tqdm

from warning_models.contract import SOURCE_ORDER, expected_sources
from warning_models.generator.access import AccessSimulator
from warning_models.generator.credit import CreditSimulator
from warning_models.generator.macro import MacroSimulator
from warning_models.generator.market import MarketSimulator
from warning_models.generator.positions import PortfolioSimulator
from warning_models.generator.span import Span
from warning_models.generator.truth import Domain, truth_document, write_truth
from warning_models.generator.writer import Batch, write_batch, write_control


@dataclass(frozen=True)
class BankConfig:
    start_date: dt.date = dt.date(2025, 1, 1)
    days: int = 180  # business dates: every calendar day from start_date, `days` of them
    n_borrowers: int = 1500  # initial book
    n_instruments: int = 30
    n_users: int = 60
    n_economies: int = 10
    seed: int = 42

    def __post_init__(self) -> None:
        for name in ("days", "n_borrowers", "n_instruments", "n_users", "n_economies"):
            if getattr(self, name) < 1:
                raise ValueError(f"BankConfig.{name} must be >= 1, got {getattr(self, name)}")
        if self.n_economies > 26:
            raise ValueError("BankConfig.n_economies must be <= 26 (economies are XA..XZ)")

    @property
    def span(self) -> Span:
        return Span(self.start_date, self.days)

    def as_strings(self) -> dict[str, str]:
        return {f.name: str(getattr(self, f.name)) for f in fields(self)}


@dataclass
class GenerationSummary:
    landing_dir: Path
    truth_path: Path
    start_date: dt.date
    end_date: dt.date
    files_written: dict[str, int] = field(default_factory=lambda: {s: 0 for s in SOURCE_ORDER})
    rows_written: dict[str, int] = field(default_factory=lambda: {s: 0 for s in SOURCE_ORDER})
    episodes: dict[str, int] = field(default_factory=lambda: {d.value: 0 for d in Domain})

    def record(self, source: str, n_rows: int) -> None:
        self.files_written[source] += 1
        self.rows_written[source] += n_rows

    def __str__(self) -> str:
        lines = [f"synthetic bank {self.start_date} .. {self.end_date}", f"{'source':<22}{'files':>7}{'rows':>10}"]
        lines += [f"{s:<22}{self.files_written[s]:>7}{self.rows_written[s]:>10}" for s in self.files_written]
        lines.append("episodes: " + ", ".join(f"{d} {n}" for d, n in self.episodes.items()))
        return "\n".join(lines)


def generate_bank(
    config: BankConfig, landing_dir: Path, truth_path: Path, *, progress: bool = True
) -> GenerationSummary:
    """Write every landing file of the configured span (overwriting) and the truth file."""
    landing_dir, truth_path = Path(landing_dir), Path(truth_path)
    span = config.span
    credit_rng, market_rng, macro_rng, access_rng, positions_rng = (
        np.random.default_rng(s) for s in np.random.SeedSequence(config.seed).spawn(5)
    )
    credit = CreditSimulator(span, config.n_borrowers, credit_rng)
    market = MarketSimulator(span, config.n_instruments, market_rng)
    macro = MacroSimulator(span, config.n_economies, macro_rng)
    access = AccessSimulator(span, config.n_users, access_rng)
    positions = PortfolioSimulator(span, market, positions_rng)
    summary = GenerationSummary(landing_dir, truth_path, span.start, span.end)

    for day in tqdm(span.dates, desc="synthetic bank", unit="day", disable=not progress):
        batches: dict[str, Batch | None] = dict(credit.step(day))
        batches["market_price_history"] = market.price_history(day)
        batches["market_prices"] = market.prices(day)
        batches["portfolio_positions"] = positions.positions(day)
        batches["macro_series"] = macro.publications(day)
        batches["macro_crises"] = macro.crises(day)
        batches["access_events"] = access.events(day)
        required = set(expected_sources(day))
        for source in SOURCE_ORDER:
            batch = batches.get(source)
            if batch is None:
                if source in required:
                    raise RuntimeError(f"generator produced no {source} batch for {day}")
                continue
            path, n_rows = write_batch(landing_dir, source, day, batch)
            write_control(path, batch)
            summary.record(source, n_rows)

    episodes = credit.episodes() + market.episodes() + macro.episodes() + access.episodes()
    for e in episodes:
        summary.episodes[e.domain.value] += 1
    write_truth(truth_path, truth_document(config.as_strings(), span.start, span.end, episodes))
    return summary
