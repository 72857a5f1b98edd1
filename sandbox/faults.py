"""Injected misbehaviour, so tests can prove clients survive throttling, errors, slowness and bad JSON."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass
class Fault:
    """The next `times` requests whose path starts with `path` (None = any) get this instead of an answer.

    A 2xx status with no body only delays the real answer; otherwise the response is `status` with `body`
    (raw, possibly malformed) or Acuity's error body for that status. Faults that alter the real answer instead
    (status 200): `ignore_params` drops query parameters before answering (e.g. a server ignoring minDate),
    `mangle` rewrites the decoded JSON (duplicate rows, bad records), `reset` sends the headers and half the body,
    then drops the connection. A fault applies to the paths below ``path`` too (``/appointments/123``), unless
    ``exact``.
    """

    status: int
    times: int
    retry_after: float | None = None
    path: str | None = None
    delay: float = 0.0
    body: str | None = None
    ignore_params: tuple[str, ...] = ()
    mangle: Callable[[Any], Any] | None = None
    reset: bool = False
    exact: bool = False  # only `path` itself, not the paths below it (/orders, not /orders/123)

    @property
    def alters_answer(self) -> bool:
        return bool(self.ignore_params or self.mangle or self.reset)


class FaultBook:
    """Pending faults, consumed first-injected first; thread-safe because handler threads race for them."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def take(self, path: str) -> Fault | None:
        """Consume one use of the first fault matching this API path (relative to /api/v1)."""
        with self._lock:
            for fault in self._faults:
                below = not fault.exact and path.startswith(str(fault.path).rstrip("/") + "/")
                if fault.path is None or path == fault.path or below:
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                    return fault
        return None
