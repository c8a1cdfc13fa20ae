"""Campaign reach reports: rollups, report queries, channel comparison, airing lift, exports."""
