"""campaigns.registry.service."""
