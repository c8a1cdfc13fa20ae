"""The audit log page: managers read and filter every change."""
