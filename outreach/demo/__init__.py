"""outreach.demo."""
