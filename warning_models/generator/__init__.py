"""The synthetic bank: landing files for every source of the contract, with labelled ground-truth episodes."""

from warning_models.generator.bank import BankConfig, GenerationSummary, generate_bank

__all__ = ["BankConfig", "GenerationSummary", "generate_bank"]
