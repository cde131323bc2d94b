"""Systemic / macro risk early warning: a pure pandas / numpy / statsmodels library (no database)."""
