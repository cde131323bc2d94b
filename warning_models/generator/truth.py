"""Ground-truth episodes of the synthetic bank and the JSON truth file read by ``ews evaluate``.

The truth file lives outside the warehouse; nothing in the landing files reveals it.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

GENERATOR_NAME = "ews-synthetic-bank"


class Domain(str, Enum):
    ACCESS = "access"
    CREDIT = "credit"
    MACRO = "macro"
    MARKET = "market"


class EpisodeKind(str, Enum):
    DEFAULT = "default"  # a loan slides into default (days past due reach 90)
    STRESS_PERIOD = "stress_period"  # market-wide volatility spike with negative drift
    CREDIT_BOOM = "credit_boom"  # credit-to-GDP rises far above trend before a crisis
    INSIDER = "insider"  # a user's access turns anomalous (volume, night, new address) and ends in bulk exports
    QUIET_INSIDER = "quiet_insider"  # office hours, own desk: reads of sensitive data never needed, modest exports


class EntityType(str, Enum):
    LOAN = "loan"
    MARKET = "market"
    ECONOMY = "economy"
    USER = "user"


@dataclass(frozen=True)
class Episode:
    """One labelled episode. ``event_date`` is None when the event falls after the span."""

    episode_id: str
    domain: Domain
    kind: EpisodeKind
    entity_type: EntityType
    entity_id: str
    onset_date: dt.date
    event_date: dt.date | None
    end_date: dt.date | None = None
    borrower_id: str | None = None  # credit episodes only

    @property
    def sort_key(self) -> tuple[str, str]:
        return (self.domain.value, self.episode_id)

    def as_dict(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "episode_id": self.episode_id,
            "domain": self.domain.value,
            "kind": self.kind.value,
            "entity_type": self.entity_type.value,
            "entity_id": self.entity_id,
        }
        if self.domain is Domain.CREDIT:
            doc["borrower_id"] = self.borrower_id
        doc["onset_date"] = self.onset_date.isoformat()
        doc["event_date"] = self.event_date.isoformat() if self.event_date else None
        doc["end_date"] = self.end_date.isoformat() if self.end_date else None
        return doc


def truth_document(
    config: dict[str, str], start: dt.date, end: dt.date, episodes: list[Episode]
) -> dict[str, Any]:
    return {
        "generator": GENERATOR_NAME,
        "config": config,
        "span": {"start_date": start.isoformat(), "end_date": end.isoformat()},
        "episodes": [e.as_dict() for e in sorted(episodes, key=lambda e: e.sort_key)],
    }


def write_truth(path: Path, document: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        fh.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
