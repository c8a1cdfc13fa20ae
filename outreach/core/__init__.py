"""outreach.core."""
