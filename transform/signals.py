"""Stops: SIGTERM behaves like Ctrl-C, so one cleanup path serves ``systemctl stop``, a timeout and a terminal.

Each signal raises ``Interrupted`` in the main thread (a ``KeyboardInterrupt``, so no ``except Exception`` swallows
it); the ``with`` blocks of the run unwind as for any error: dbt's child is killed and reaped (DuckDB's lock goes with
it), the embedded sandbox stops, a publish's temp copy is removed, and the run journal records where the run stopped
(transform.journal). dlt would otherwise take the signal over during its normalize and load steps and, for a load
that finishes in one pass, drop it; ``RUNTIME__INTERCEPT_SIGNALS=false`` leaves it to these handlers.

After the cleanup the process ends by the same signal (``die_by``), so a shell, cron and make see 130 or 143 and
systemd counts a stop it asked for as clean.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import sys
from types import FrameType

STOPS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(KeyboardInterrupt):
    """A stop asked for by a signal. ``signal_code`` as dlt's ``SignalReceivedException`` names it."""

    def __init__(self, signal_code: int, doing: str | None = None) -> None:
        self.signal_code, self.doing = signal_code, doing
        super().__init__(f"interrupted ({signal_name(signal_code)})")

    def line(self) -> str:
        """The one line a stop ends with: what it interrupted, and what becomes of it."""
        stopped = f"interrupted ({signal_name(self.signal_code)})"
        if self.doing == "done":
            return f"{stopped} after the run had finished and published"
        while_ = f" while {self.doing}" if self.doing else ""
        return f"{stopped}{while_}: nothing was published; the next run finishes or undoes what this run left"


def signal_name(code: int) -> str:
    try:
        return signal.Signals(code).name
    except ValueError:
        return f"signal {code}"


_received: list[int] = []


def _raise(code: int, frame: FrameType | None) -> None:
    _received.append(code)
    if len(_received) == 1:  # a second stop while cleaning up would cut the cleanup short: the first one is enough
        raise Interrupted(code)


def requested() -> int | None:
    """The signal that asked this process to stop, if one did (also when the code it interrupted swallowed the
    ``Interrupted``: DuckDB turns a signal that arrives during a query into its own ``InterruptException``)."""
    return _received[0] if _received else None


def stop_if_requested() -> None:
    """Raise ``Interrupted`` at a step boundary when a stop arrived and was swallowed on the way."""
    if _received:
        raise Interrupted(_received[0])


def install() -> None:
    """Route SIGINT and SIGTERM through ``Interrupted`` for the rest of this process (the main thread's)."""
    os.environ["RUNTIME__INTERCEPT_SIGNALS"] = "false"  # dlt's own handlers would hold the signal back, or lose it
    for code in STOPS:
        signal.signal(code, _raise)


def code_of(stop: BaseException) -> int:
    """The signal behind a stop: ours, dlt's ``SignalReceivedException`` or a plain KeyboardInterrupt (SIGINT)."""
    code = getattr(stop, "signal_code", None)
    return code if isinstance(code, int) and code > 0 else signal.SIGINT


def exit_status(code: int) -> int:
    return 128 + code


def die_by(code: int) -> int:
    """End this process by signal ``code`` with its default action, so the parent sees a death by that signal;
    returns the shell's status for it where the signal cannot be re-raised."""
    # what a normal exit would still do (multiprocessing's finalizers unlink its semaphores; without them its
    # resource tracker warns of leaks), then the signal's default action instead of a normal exit
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    signal.signal(code, signal.SIG_DFL)
    os.kill(os.getpid(), code)
    return exit_status(code)  # pragma: no cover - not reached: the default action ends the process


def ignore_in_child() -> None:
    """For a helper process (dbt's child): stops are the parent's to handle, and the child dies with its parent.

    A terminal's Ctrl-C and systemd's stop reach the whole process group; the parent kills and reaps its children
    in order, so a child that reacted on its own would print dbt's traceback halfway through. PR_SET_PDEATHSIG
    (Linux) ends the child when the parent is killed outright (kill -9), so no orphan keeps the warehouse locked.
    """
    for code in STOPS:
        signal.signal(code, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
        if os.getppid() == 1:  # the parent died before the line above: do not outlive it
            os._exit(1)
