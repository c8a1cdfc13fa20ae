"""campaigns.retention.service."""
