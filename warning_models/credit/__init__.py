"""Credit risk: the PD scorecard (WoE bins, Logit, points), its validation and monitoring, IFRS 9 staging,
portfolio forecasts, and training on a user's own loan file."""
