"""A client-side limiter that keeps every request under Acuity's documented 10 requests/second.

Acuity enforces the limit per IP, so one limiter is shared by everything this process sends (all tenants):
staying under it is cheaper than provoking 429s and waiting for retries.
"""

from __future__ import annotations

import threading
import time


class RateLimiter:
    """Spaces requests at least ``1 / rate`` seconds apart (a token bucket with a burst of one)."""

    def __init__(self, rate_per_second: float) -> None:
        if rate_per_second <= 0:
            raise ValueError("rate_per_second must be positive")
        self._interval = 1.0 / rate_per_second
        self._next_slot = 0.0
        self._lock = threading.Lock()

    def acquire(self) -> None:
        """Block until the caller may send one request."""
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next_slot)
            self._next_slot = slot + self._interval
        delay = slot - now
        if delay > 0:
            time.sleep(delay)


# Acuity: "Limit 10req/s and 20 concurrent connections" per IP. A little headroom absorbs clock jitter.
ACUITY_LIMITER = RateLimiter(rate_per_second=9.5)
