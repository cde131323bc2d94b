"""Market risk: EWMA volatility, one-day VaR and expected shortfall, and VaR backtests."""
