"""The campaign registry: campaigns, entry points, attribution and metrics."""
