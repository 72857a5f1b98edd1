"""The parent's side of ``bench.serve``: start it, ask for its request log, stop it, and keep its CPU figure."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from bench.sizes import Size
from transform.paths import PROJECT_DIR


class SandboxProcess:
    """A ``bench.serve`` child; every exchange has a timeout so a wedged sandbox fails the run instead of hanging."""

    def __init__(
        self, size: Size, log_path: Path, env: dict[str, str], timeout: float = 120.0, cache: Path | None = None
    ) -> None:
        """``cache``: serve the account as pre-serialised bytes from this directory (captured first if empty)."""
        self._log = log_path.open("wb")
        extra = ["--cache", str(cache)] if cache is not None else []
        self._process = subprocess.Popen(
            [sys.executable, "-m", "bench.serve", *size.serve_args(), *extra],
            cwd=PROJECT_DIR,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            start_new_session=True,
        )
        self.cpu_seconds = 0.0
        self.peak_rss = 0
        hello = json.loads(self._read_line(timeout))
        self.limited_url: str = hello["limited"]
        self.open_url: str = hello["open"]
        self.user_id: str = hello["user_id"]
        self.api_key: str = hello["api_key"]
        self.static: bool = hello.get("static", False)
        self.capture_seconds: float | None = hello.get("capture_seconds")

    def _stdin(self) -> TextIO:
        assert self._process.stdin is not None
        return self._process.stdin

    def _read_line(self, timeout: float) -> str:
        stdout = self._process.stdout
        assert stdout is not None
        ready, _, _ = select.select([stdout], [], [], timeout)
        line = stdout.readline() if ready else ""
        if not line:
            self.stop()
            raise RuntimeError(f"the sandbox did not answer within {timeout:g} s (see {self._log.name})")
        return line

    def request_log(self, path: Path, timeout: float = 60.0) -> list[tuple[str, str, int]]:
        """The limited server's requests since the previous call: (method, path?query, status)."""
        self._stdin().write(f"log {path}\n")
        self._stdin().flush()
        self._read_line(timeout)
        entries: list[Any] = json.loads(path.read_text())
        return [(m, t, int(s)) for m, t, s in entries]

    def stop(self, timeout: float = 15.0) -> None:
        if self._process.returncode is not None:
            return
        try:
            self._stdin().write("quit\n")
            self._stdin().close()
        except (BrokenPipeError, ValueError):
            pass
        deadline = time.monotonic() + timeout
        while True:
            pid, status, usage = os.wait4(self._process.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                self._process.kill()
                pid, status, usage = os.wait4(self._process.pid, 0)
                break
            time.sleep(0.05)
        self._process.returncode = os.waitstatus_to_exitcode(status)
        self.cpu_seconds = usage.ru_utime + usage.ru_stime
        self.peak_rss = usage.ru_maxrss * 1024
        if self._process.stdout is not None:
            self._process.stdout.close()
        self._log.close()
