"""campaigns.reports.sources.base."""
