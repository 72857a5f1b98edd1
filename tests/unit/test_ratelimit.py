"""The shared limiter never admits more than ``max_sends`` in any window, whatever the callers' timing.

Every test runs on an injected clock: no real sleeps and no timing asserts, so the proofs hold on a loaded machine.
"""

from __future__ import annotations

import random
import threading
from bisect import bisect_left

import pytest

from extract.ratelimit import ACUITY_LIMITER, RateLimiter

pytestmark = pytest.mark.unit


class FakeClock:
    """Time that moves only when told: ``sleep`` advances it by the asked delay plus an optional oversleep."""

    def __init__(self, oversleep: random.Random | None = None, late_by: float = 0.0) -> None:
        self.now = 1000.0
        self._oversleep, self._late_by = oversleep, late_by
        self._lock = threading.Lock()
        self.sleeps = 0

    def __call__(self) -> float:
        with self._lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        extra = self._oversleep.uniform(0, self._late_by) if self._oversleep else 0.0
        with self._lock:
            self.sleeps += 1
            self.now += seconds + extra

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds


def most_in_any_window(times: list[float], window: float) -> int:
    """The most ``times`` inside one half-open interval [t, t + window) (checking each t as a start suffices)."""
    ordered = sorted(times)
    return max((bisect_left(ordered, t + window) - i for i, t in enumerate(ordered)), default=0)


def test_the_shared_limiter_keeps_headroom_under_acuitys_10_per_second() -> None:
    assert ACUITY_LIMITER.max_sends < 10
    assert ACUITY_LIMITER.window_seconds >= 1.0


def test_a_burst_is_admitted_in_full_windows_and_never_more() -> None:
    clock = FakeClock()
    limiter = RateLimiter(8, 1.1, clock=clock, sleep=clock.sleep)

    admitted = [limiter.acquire() for _ in range(80)]

    assert most_in_any_window(admitted, 1.1) == 8
    assert most_in_any_window(admitted, 1.0) <= 8
    # and it wastes nothing: the k-th request of a burst goes as soon as the window allows
    assert admitted[8] == pytest.approx(admitted[0] + 1.1)
    assert admitted[-1] == pytest.approx(admitted[0] + 9 * 1.1)


@pytest.mark.parametrize("seed", range(25))
def test_late_and_bunched_callers_never_overfill_a_window(seed: int) -> None:
    """The busy machine: callers arrive in bunches after random pauses and every wake-up is up to 300 ms late."""
    rng = random.Random(seed)
    clock = FakeClock(oversleep=rng, late_by=0.3)
    limiter = RateLimiter(8, 1.1, clock=clock, sleep=clock.sleep)
    admitted = []
    for _ in range(40):
        clock.advance(rng.choice([0.0, 0.0, rng.uniform(0, 0.05), rng.uniform(0, 2.0)]))
        for _ in range(rng.randint(1, 12)):
            admitted.append(limiter.acquire())

    assert most_in_any_window(admitted, 1.1) <= 8
    # a request leaving up to 100 ms after its admission still lands within Acuity's 10 per server-side second
    sent = [t + rng.uniform(0, 0.1) for t in admitted]
    assert most_in_any_window(sent, 1.0) <= 8 < 10


def test_many_threads_sharing_one_limiter_never_overfill_a_window() -> None:
    """Real threads, one fake clock that every sleeper pushes forward: any interleaving keeps the guarantee."""
    rng = random.Random(7)
    clock = FakeClock(oversleep=rng, late_by=0.05)
    limiter = RateLimiter(8, 1.1, clock=clock, sleep=clock.sleep)
    admitted: list[float] = []
    lock = threading.Lock()

    def caller() -> None:
        for _ in range(25):
            at = limiter.acquire()
            with lock:
                admitted.append(at)

    threads = [threading.Thread(target=caller) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert not any(thread.is_alive() for thread in threads)
    assert len(admitted) == 200
    assert most_in_any_window(admitted, 1.1) <= 8


def test_a_caller_after_a_quiet_spell_is_admitted_at_once() -> None:
    clock = FakeClock()
    limiter = RateLimiter(8, 1.1, clock=clock, sleep=clock.sleep)
    for _ in range(8):
        limiter.acquire()
    clock.advance(5.0)
    sleeps = clock.sleeps

    limiter.acquire()

    assert clock.sleeps == sleeps


@pytest.mark.parametrize(("sends", "window"), [(0, 1.0), (-1, 1.0), (8, 0.0)])
def test_a_limiter_that_could_never_admit_is_refused(sends: int, window: float) -> None:
    with pytest.raises(ValueError):
        RateLimiter(sends, window)
