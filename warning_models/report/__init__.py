"""The daily report: one static HTML page with PNG charts per business date (`ews report --date D`): top alerts
per domain, key indicators over time with thresholds and alert days, data quality, model health."""

from warning_models.report.build import write_report

__all__ = ["write_report"]
