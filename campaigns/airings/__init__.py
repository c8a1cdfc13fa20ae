"""campaigns.airings.service."""
