"""campaigns.voice."""
