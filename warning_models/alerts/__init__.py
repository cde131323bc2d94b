"""Alerts as a product: cases with a lifecycle (new, open, acknowledged, resolved, suppressed), people's actions on
them, and notifications (docs/alerts.md)."""
