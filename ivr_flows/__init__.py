"""Voice flow definitions and the pure flow engine."""
