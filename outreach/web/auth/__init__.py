"""Users, roles, password hashing, login sessions, CSRF tokens and API tokens."""
