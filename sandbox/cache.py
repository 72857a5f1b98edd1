"""Rendered response bodies, kept until the account changes: a large account's answer is rendered once, not per request.

Rendering is the sandbox's cost (a 100k-appointment account renders at ~10 MB/s); a daily sync re-asks what it asked
yesterday, and a benchmark's floor replays the pipeline's requests. The key holds the account's `version`, which every
mutation bumps, so a changed account can never be answered from the cache: old entries simply stop being asked for
and age out, least recently used first, within a byte budget.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator

DEFAULT_BUDGET = 256 * 1024 * 1024


class ResponseCache:
    """Bodies by key, least recently used evicted first once their total passes `budget` bytes (0 disables)."""

    def __init__(self, budget: int = DEFAULT_BUDGET) -> None:
        self.budget = budget
        self.hits = 0
        self.misses = 0
        self._bodies: OrderedDict[Hashable, bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> bytes | None:
        with self._lock:
            body = self._bodies.get(key)
            if body is None:
                self.misses += 1
                return None
            self._bodies.move_to_end(key)
            self.hits += 1
            return body

    def put(self, key: Hashable, body: bytes) -> None:
        if len(body) > self.budget:
            return
        with self._lock:
            if key in self._bodies:
                return
            self._bodies[key] = body
            self._size += len(body)
            while self._size > self.budget:
                _, evicted = self._bodies.popitem(last=False)
                self._size -= len(evicted)

    def teed(self, key: Hashable, pieces: Iterator[bytes], still_valid: Callable[[], bool]) -> Iterator[bytes]:
        """Stream `pieces` and keep their concatenation if it fits the budget and the account did not change meanwhile.

        A client that hangs up mid-stream closes the generator, and nothing partial is kept.
        """
        kept: list[bytes] | None = []
        size = 0
        for piece in pieces:
            if kept is not None:
                size += len(piece)
                if size > self.budget:
                    kept = None
                else:
                    kept.append(piece)
            yield piece
        if kept is not None and still_valid():
            self.put(key, b"".join(kept))
