"""A client-side limiter that keeps every request under Acuity's documented 10 requests/second.

Acuity enforces the limit per IP, so one limiter is shared by everything this process sends (all tenants):
staying under it is cheaper than provoking 429s and waiting for retries.

Why a sliding window and not spacing: a limiter that spaces sends ``1/rate`` apart computes each slot from the
previous *slot*, not from when the previous request really left. On a busy machine a thread wakes late, the next one
wakes on time, and 11 requests land in one server-side second (measured: 3 429s in ~50 requests at 9.5 req/s). This
limiter instead remembers when it actually admitted each of the last ``max_sends`` requests and admits another only
when fewer than ``max_sends`` fall in the trailing ``window_seconds``. The guarantee holds for any interleaving of
callers and any lateness of their wake-ups, because admission times are read from the clock under the lock:

    no interval of length ``window_seconds`` contains more than ``max_sends`` admissions.

Headroom: Acuity's 10 per second is met with 8 per 1.1 s, so two requests of slack in count, and a request that
leaves up to 100 ms after its admission (a descheduled thread, a slow connect) still cannot push a server-side
second over 10. With adaptive page sizes a sync sends a handful of requests, so the lower rate costs nothing.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable


class RateLimiter:
    """At most ``max_sends`` admissions in any ``window_seconds``-long interval, shared safely by many threads.

    ``clock`` and ``sleep`` are injectable so tests can prove the guarantee without real time.
    """

    def __init__(
        self,
        max_sends: int,
        window_seconds: float = 1.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if max_sends < 1:
            raise ValueError("max_sends must be at least 1")
        if window_seconds <= 0:
            raise ValueError("window_seconds must be positive")
        self.max_sends = max_sends
        self.window_seconds = window_seconds
        self._clock = clock
        self._sleep = sleep
        self._admitted: deque[float] = deque()  # admission times, oldest first, at most max_sends of them
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Block until the caller may send one request; return the admission time (the limiter's clock)."""
        while True:
            with self._lock:
                now = self._clock()
                # an admission at t stops counting once now - t >= window: [t, t + window) holds it
                while self._admitted and now - self._admitted[0] >= self.window_seconds:
                    self._admitted.popleft()
                if len(self._admitted) < self.max_sends:
                    self._admitted.append(now)
                    return now
                wait = self._admitted[0] + self.window_seconds - now
            # sleep outside the lock; whoever wakes first re-checks against the clock, so a late or early wake-up
            # (or another thread taking the slot) can only cost time, never an extra admission
            self._sleep(max(wait, 0.0))


# Acuity: "Limit 10req/s and 20 concurrent connections" per IP. 8 per 1.1 s leaves headroom in count and in time.
ACUITY_LIMITER = RateLimiter(max_sends=8, window_seconds=1.1)
