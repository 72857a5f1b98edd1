"""Child processes measured from the outside: wall time, CPU, and peak RSS of the process and of its descendants.

The pipeline runs ``dbt`` as a grandchild, so one number would mix two programs: ``/proc`` polling reads each
process's own high-water mark (``VmHWM``), and ``os.wait4`` adds the kernel's exact figures for the whole tree.
Every child gets a timeout and its own process group, so a hung sync cannot keep ``make bench`` running forever.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

POLL_SECONDS = 0.1


@dataclass
class ChildRun:
    """What one measured child did; RSS figures are bytes."""

    returncode: int
    wall_seconds: float
    cpu_seconds: float
    peak_rss: int  # the child process itself (VmHWM, last polled)
    peak_rss_descendants: int  # the largest of its descendants (dbt), 0 if none was seen
    peak_rss_tree: int  # wait4: the largest process of the whole tree, exact
    timed_out: bool
    log_path: Path

    def tail(self, lines: int = 20) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


def _high_water_mark(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            found += [int(p) for p in (task / "children").read_text().split()]
    except OSError:
        pass
    return found


def _descendants(pid: int) -> list[int]:
    pending, seen = _children(pid), []
    while pending and len(seen) < 1000:  # bounded: a process tree this size would be a bug worth stopping at
        child = pending.pop()
        seen.append(child)
        pending += _children(child)
    return seen


def run_measured(argv: list[str], env: dict[str, str], cwd: Path, timeout: float, log_path: Path) -> ChildRun:
    """Run ``argv`` to completion (or kill its process group after ``timeout`` s), stdout+stderr to ``log_path``."""
    started = time.perf_counter()
    with log_path.open("wb") as log:
        process = subprocess.Popen(argv, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    own = descendants = 0
    timed_out = False
    exited = os.pidfd_open(process.pid)  # readable the moment the child exits: the wall time is not rounded to a poll
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        own = max(own, _high_water_mark(process.pid))
        for child in _descendants(process.pid):
            descendants = max(descendants, _high_water_mark(child))
        if time.perf_counter() - started > timeout:
            timed_out = True
            os.killpg(process.pid, signal.SIGKILL)
            pid, status, usage = os.wait4(process.pid, 0)
            break
        select.select([exited], [], [], POLL_SECONDS)
    os.close(exited)
    process.returncode = os.waitstatus_to_exitcode(status)  # reaped here, so Popen must not wait again
    return ChildRun(
        returncode=process.returncode,
        wall_seconds=time.perf_counter() - started,
        cpu_seconds=usage.ru_utime + usage.ru_stime,
        peak_rss=own,
        peak_rss_descendants=descendants,
        peak_rss_tree=usage.ru_maxrss * 1024,
        timed_out=timed_out,
        log_path=log_path,
    )
