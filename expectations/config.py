"""The gate's configuration: each check's severity (block or warn) and the thresholds of the history checks.

Read from `expectations/gate.toml`, or the file named by EWS_GATE_CONFIG. Keys name a check for every source
(`row_count_drift`) or for one source (`access_events.row_count_drift`); the source-specific key wins and a
check named nowhere blocks. `off` leaves a check out for a source whose data it does not fit. Thresholds not in the file keep the defaults below.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from warning_models.errors import ConfigError

DEFAULT_CONFIG_PATH = Path(__file__).with_name("gate.toml")


class Severity(str, Enum):
    BLOCK = "block"  # the batch goes to quarantine; downstream is held for that source and day
    WARN = "warn"  # the batch passes; a data-quality alert is raised
    OFF = "off"  # the check is not run (for a source whose data it does not fit)


@dataclass(frozen=True)
class Thresholds:
    baseline_lookback_days: int = 56
    baseline_min_days: int = 8
    collapse_low_ratio: float = 0.25
    collapse_high_ratio: float = 4.0
    collapse_min_baseline: float = 50
    drift_z: float = 6.0
    drift_min_relative: float = 0.5
    drift_min_baseline: float = 20
    psi_max: float = 0.25
    psi_min_rows: int = 200
    stale_trading_days: int = 5
    price_jump_robust_sigmas: float = 12.0
    price_jump_floor_log_return: float = 0.4
    price_history_trading_days: int = 60
    reconciliation_tolerance_amount: float = 0.02
    reconciliation_tolerance_pct_of_paid: float = 0.5
    macro_jump_log_ratio: float = 0.5


@dataclass(frozen=True)
class GateConfig:
    severities: dict[str, Severity] = field(default_factory=dict)
    thresholds: Thresholds = field(default_factory=Thresholds)
    path: Path | None = None

    def severity(self, source: str, check: str) -> Severity:
        return self.severities.get(f"{source}.{check}") or self.severities.get(check) or Severity.BLOCK


def load_gate_config(path: Path | None = None) -> GateConfig:
    """The configuration in `path`, else $EWS_GATE_CONFIG, else the repository's expectations/gate.toml."""
    path = path or Path(os.environ.get("EWS_GATE_CONFIG") or DEFAULT_CONFIG_PATH)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"gate configuration {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"gate configuration {path}: {exc}") from None
    unknown = set(data) - {"severity", "thresholds"}
    if unknown:
        raise ConfigError(f"gate configuration {path}: unknown section(s) {sorted(unknown)}")
    severities: dict[str, Severity] = {}
    for key, value in data.get("severity", {}).items():
        try:
            severities[key] = Severity(value)
        except ValueError:
            raise ConfigError(f"gate configuration {path}: severity of {key!r} is {value!r}, not block, warn or off") from None
    known = {f.name for f in dataclasses.fields(Thresholds)}
    given = data.get("thresholds", {})
    bad = sorted(set(given) - set(known))
    if bad:
        raise ConfigError(f"gate configuration {path}: unknown threshold(s) {bad}; known: {sorted(known)}")
    defaults = Thresholds()
    for key, value in given.items():
        if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
            raise ConfigError(f"gate configuration {path}: threshold {key} must be a number >= 0, got {value!r}")
        if isinstance(getattr(defaults, key), int) and not isinstance(value, int):
            raise ConfigError(f"gate configuration {path}: threshold {key} must be a whole number, got {value!r}")
    if given.get("stale_trading_days", 2) < 2:
        raise ConfigError(f"gate configuration {path}: stale_trading_days must be at least 2")
    return GateConfig(severities, Thresholds(**given), path)
