"""Users in the browser: managers list, create, disable and reset them, and issue tokens."""
