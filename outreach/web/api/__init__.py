"""The JSON API under /api: campaigns, airings, reports and exports (OpenAPI at /docs)."""
