"""Outreach: SMS and voice lines for public-service campaigns."""

__version__ = "0.1.0"
