"""The server-rendered dashboard: overview, campaign, channel comparison and airing lift."""
