"""Acuity's documented limits: 10 requests/second and 20 concurrent connections."""

from __future__ import annotations

import threading
import time


class RateLimiter:
    """Token bucket (rate per second, burst capacity) plus an in-flight cap; `enter` says whether to serve."""

    def __init__(self, rate: float = 10.0, burst: int = 10, concurrency: int = 20) -> None:
        self._rate = rate
        self._burst = burst
        self._concurrency = concurrency
        self._tokens = float(burst)
        self._stamp = time.monotonic()
        self._in_flight = 0
        self._lock = threading.Lock()

    def enter(self) -> bool:
        """Admit a request (caller must `leave` afterwards) or refuse it without consuming anything."""
        with self._lock:
            now = time.monotonic()
            self._tokens = min(self._burst, self._tokens + (now - self._stamp) * self._rate)
            self._stamp = now
            if self._tokens < 1 or self._in_flight >= self._concurrency:
                return False
            self._tokens -= 1
            self._in_flight += 1
            return True

    def leave(self) -> None:
        with self._lock:
            self._in_flight -= 1
