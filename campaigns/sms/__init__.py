"""campaigns.sms.service."""
