"""outreach.web."""
