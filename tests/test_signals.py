"""Stops: a real SIGTERM or SIGINT, sent to the process group of a real run (as systemd and a terminal's Ctrl-C do), at
each stage — extract, load, dbt, publish — through `python -m transform` and through `make pipeline`. Each stopped run
ends within seconds by that signal (a shell sees 143 or 130), says in one line what it interrupted, leaves no process
and no lock behind, and is recorded; the next run equals a clean run.

The cases are chained to keep CI short: each rerun is the next stopped case, and one final run is compared with a
clean one. A kill -9 ends the chain: its run is recorded too, as the next run finds it in the journal."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
from helpers import AS_OF, PROJECT, assert_same_marts, kill_when, pipeline_env, run_pipeline

from sandbox import Fault, SandboxServer, build_account
from transform.journal import KILLED
from transform.paths import analyst_path, pipelines_dir

USER_ID, API_KEY = "10001", "test-key-6d1f0c2b-never-print-me"
ARGS = ("--as-of", AS_OF.isoformat())

# `python -m transform`, which signals its own process group the moment its publish has written the temp copy: the
# only way to hit a step that lasts milliseconds every time (tests/helpers.py does the same with SIGKILL).
_SIGNALS_PUBLISHING = """
import os, runpy, shutil, signal, types
import transform.publish as publish

def copy_then_stop(source, target):
    shutil.copyfile(source, target)
    os.killpg(0, int(os.environ["STOP_WITH"]))

publish.shutil = types.SimpleNamespace(copyfile=copy_then_stop)
runpy.run_module("transform", run_name="__main__", alter_sys=True)
"""

# what the one line says for each stage; a stop the moment dlt's package is normalized may still be in its normalize
# step, which ends with the package written
STAGES = ("extract", "load", "dbt", "publish")
WORDS = {
    "extract": {"extract": "while extracting tenant default"},
    "load": {
        "normalize": "while normalizing tenant default",
        "load": "while loading tenant default",
        # between dlt's steps (a pending load being finished, the sync's own queries)
        "sync": "while syncing tenant default",
        # a stop DuckDB swallowed during one of the sync's own queries is honoured once the sync ends, before the build
        "dbt": "while syncing tenant default",
    },
    "dbt": {"dbt": "while building the models"},
    "publish": {"publish": "while publishing the analysts' copy"},
}


def start(env: dict[str, str], via_make: bool, publishing_signal: int | None = None) -> subprocess.Popen:
    if via_make:
        command = ["make", "--no-print-directory", "-s", "pipeline", f"ARGS={' '.join(ARGS)}"]
    elif publishing_signal is not None:
        command = [sys.executable, "-c", _SIGNALS_PUBLISHING, *ARGS]
        env = {**env, "STOP_WITH": str(publishing_signal)}
    else:
        command = [sys.executable, "-m", "transform", *ARGS]
    return subprocess.Popen(
        command, env=env, cwd=PROJECT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True, preexec_fn=default_signals,
    )  # fmt: skip


def default_signals() -> None:
    """Start as cron, systemd or a shell start it: SIGINT and SIGTERM at their defaults. A test process may ignore
    SIGINT (an in-process run before it), and make keeps a signal ignored at its start ignored: it would then outlive
    its child's stop and exit 2, as it never would under an operator."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def signal_when(process: subprocess.Popen, reached: Callable[[], bool], code: int, what: str) -> None:
    deadline = time.monotonic() + 120
    while not reached():
        if process.poll() is not None:
            raise AssertionError(f"the run ended before {what}: {process.stdout.read() if process.stdout else ''}")
        if time.monotonic() > deadline:
            os.killpg(process.pid, signal.SIGKILL)
            raise AssertionError(f"never reached: {what}")
        time.sleep(0.005)
    os.killpg(process.pid, code)


def new_load(warehouse: Path) -> Callable[[], bool]:
    """True once this run's own package is normalized and nothing is left to normalize (its load stage proper); a
    package a stopped run left pending does not count."""
    folder = pipelines_dir(warehouse) / "acuity_default"
    normalized, extracted = folder / "load" / "normalized", folder / "normalize" / "extracted"
    before = set(os.listdir(normalized)) if normalized.exists() else set()
    return lambda: (
        normalized.exists()
        and bool(set(os.listdir(normalized)) - before)
        and not (extracted.exists() and any(extracted.iterdir()))
    )


def dbt_has_open(pgid: int, path: Path) -> Callable[[], bool]:
    """True once dbt's child (in the run's process group, under make too) has the warehouse open: the build began."""

    def opened() -> bool:
        for proc in Path("/proc").iterdir():
            try:
                if not proc.name.isdigit() or os.getpgid(int(proc.name)) != pgid:
                    continue
                if b"transform.dbt_child" not in (proc / "cmdline").read_bytes():
                    continue
                if any(os.readlink(fd) == str(path) for fd in (proc / "fd").iterdir()):
                    return True
            except OSError:
                continue
        return False

    return opened


def left_in_group(pgid: int) -> list[str]:
    """Processes still in the stopped run's group, after a grace of a few seconds (none may stay)."""
    deadline = time.monotonic() + 10
    while True:
        found = subprocess.run(["pgrep", "-a", "-g", str(pgid)], capture_output=True, text=True).stdout.splitlines()
        alive = [line for line in found if "<defunct>" not in line]
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.1)


def test_a_stop_at_each_stage_ends_by_its_signal_cleans_up_and_the_next_run_equals_a_clean_run(tmp_path: Path) -> None:
    account = build_account("seed", 42, AS_OF)
    clean, stopped = tmp_path / "clean" / "acuity.duckdb", tmp_path / "stopped" / "acuity.duckdb"
    cases = [(stage, code, False) for stage in STAGES for code in (signal.SIGTERM, signal.SIGINT)]
    # through make: what reaches make is the same at any stage (make runs the same module), so one stage per signal
    cases += [("load", signal.SIGTERM, True), ("dbt", signal.SIGINT, True)]
    with SandboxServer({USER_ID: (API_KEY, account)}, rate_limit=False) as server:
        env = pipeline_env(server, stopped, ACUITY_PAGE_SIZE="200")
        run_pipeline(pipeline_env(server, clean), *ARGS)  # the first stopped run below is a backfill, the rest daily
        for stage, code, via_make in cases:
            label = f"{signal.Signals(code).name} at {stage}{' via make' if via_make else ''}"
            if stage == "extract":
                server.inject(Fault(status=200, times=1, delay=30, path="/orders"))
            sent, loading = len(server.request_log), new_load(stopped)
            victim = start(env, via_make, code if stage == "publish" else None)
            if stage == "extract":
                signal_when(victim, lambda s=sent: any("/orders" in e[1] for e in server.request_log[s:]), code, label)
            elif stage == "load":
                signal_when(victim, loading, code, label)
            elif stage == "dbt":
                signal_when(victim, dbt_has_open(victim.pid, stopped), code, label)
            output = victim.communicate(timeout=60)[0]  # a stop that hangs fails here (within seconds: tens at worst)

            assert victim.returncode == -code, f"{label}: {victim.returncode}\n{output}"  # a shell shows 128 + code
            lines = [f"interrupted ({signal.Signals(code).name}) {words}: nothing" for words in WORDS[stage].values()]
            assert any(line in output for line in lines), f"{label}:\n{output}"
            assert "Traceback" not in output, f"{label}:\n{output}"
            assert left_in_group(victim.pid) == [], f"{label}: processes left behind"
            duckdb.connect(str(stopped)).close()  # the lock is free: dbt's child is gone
            assert not list(stopped.parent.glob(".analyst.duckdb.*.tmp")), f"{label}: a temp copy was left"
        killed = subprocess.Popen(
            [sys.executable, "-m", "transform", *ARGS], env=env, cwd=PROJECT, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, start_new_session=True,
        )  # fmt: skip
        kill_when(killed, new_load(stopped), "the load, for a kill -9")

        output = run_pipeline(env, *ARGS)

    assert "Recording an earlier run of tenant default: interrupted" in output
    assert_same_marts(stopped, clean)
    assert_same_marts(analyst_path(stopped), stopped)
    with duckdb.connect(str(analyst_path(stopped)), read_only=True) as connection:
        rows = connection.execute(
            "select status, stage, error from marts.sync_runs where status <> 'success' order by started_at"
        ).fetchall()
        freshness = connection.execute("select failed_since, last_failure_stage from marts.sync_freshness").fetchall()
    assert [status for status, _, _ in rows] == ["interrupted"] * (len(cases) + 1)
    for (_, stage, error), (expected, code, _) in zip(rows, cases, strict=False):
        assert stage in WORDS[expected], (stage, expected)
        assert error == f"interrupted ({signal.Signals(code).name}) {WORDS[expected][stage]}"
    assert rows[-1][1:] == ("sync", f"{KILLED} while syncing tenant default")
    assert freshness == [(0, rows[-1][1])], "the final run succeeded after them all"
