"""The bank sizes the benchmarks run: S (the demo), M and L."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BankSize:
    name: str
    borrowers: int  # initial borrowers: about 1.75 loans each (the generator's second loans and institutions)
    users: int
    instruments: int

    @property
    def approx_loans(self) -> int:
        return round(self.borrowers * 1.755)


SIZES: dict[str, BankSize] = {
    "S": BankSize("S", borrowers=1_500, users=60, instruments=30),  # the demo bank
    "M": BankSize("M", borrowers=57_000, users=2_000, instruments=200),  # 100k loans
    "L": BankSize("L", borrowers=570_000, users=10_000, instruments=500),  # 1M loans
}
