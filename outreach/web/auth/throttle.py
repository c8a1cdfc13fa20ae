"""Login throttling: too many failed logins per (client IP, username) are refused for a while."""

from __future__ import annotations

import hashlib
import math
import threading
from collections import OrderedDict, deque
from datetime import datetime, timedelta

from outreach.core.context import AppContext

MAX_ENTRIES = 10_000  # memory bound: about a megabyte at most
_EXTRAS_KEY = "login_throttle"
_create_lock = threading.Lock()

Key = tuple[str, str]


class LoginThrottle:
    """Counts failed logins per key in a sliding window; bounded, thread-safe, in memory."""

    def __init__(
        self, *, max_failures: int, window_seconds: float, max_entries: int = MAX_ENTRIES
    ) -> None:
        self.max_failures = max(1, max_failures)
        self.window = timedelta(seconds=window_seconds)
        self.max_entries = max_entries
        # key -> times of its latest failures (at most max_failures), least recent key first.
        self._failures: OrderedDict[Key, deque[datetime]] = OrderedDict()
        self._lock = threading.Lock()

    def retry_after(self, key: Key, *, now: datetime) -> int | None:
        """Returns the seconds until this key may try again, or None when it may now."""
        with self._lock:
            times = self._failures.get(key)
            if times is None or len(times) < self.max_failures:
                return None
            left = (times[0] + self.window - now).total_seconds()
            if left <= 0:
                del self._failures[key]
                return None
            return max(1, math.ceil(left))

    def failed(self, key: Key, *, now: datetime) -> None:
        """Records a failed login for this key."""
        with self._lock:
            times = self._failures.pop(key, None)
            if times is None:
                times = deque(maxlen=self.max_failures)
            times.append(now)
            self._failures[key] = times  # now the most recent key
            self._evict(now)

    def succeeded(self, key: Key) -> None:
        """Forgets this key's failures (a successful login)."""
        with self._lock:
            self._failures.pop(key, None)

    def __len__(self) -> int:
        return len(self._failures)

    def _evict(self, now: datetime) -> None:
        # Keys are ordered by their last failure: expired ones sit at the front.
        while self._failures:
            key, times = next(iter(self._failures.items()))
            if times[-1] + self.window > now and len(self._failures) <= self.max_entries:
                break
            del self._failures[key]


def throttle_for(ctx: AppContext) -> LoginThrottle:
    """Returns the service's login throttle, created from its settings on first use."""
    with _create_lock:
        throttle = ctx.extras.get(_EXTRAS_KEY)
        if not isinstance(throttle, LoginThrottle):
            throttle = ctx.extras[_EXTRAS_KEY] = LoginThrottle(
                max_failures=ctx.settings.login_max_failures,
                window_seconds=ctx.settings.login_window_seconds,
            )
        return throttle


def login_key(client_ip: str | None, username: str) -> Key:
    """Keys a login attempt by client IP and username (normalised as authenticate does)."""
    return (client_ip or "unknown", username.strip().casefold())


def username_ref(username: str) -> str:
    """A short hash of a username for logs."""
    return hashlib.sha256(username.strip().casefold().encode()).hexdigest()[:12]
