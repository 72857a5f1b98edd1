"""What tests share besides fixtures: the sandbox world a test syncs against, isolation of every setting, and the
ground-truth comparison of the marts. Fixtures built on these live in ``conftest.py``."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

import duckdb
import pytest

from extract.config import settings_from_env
from sandbox import Account, Readings, SandboxServer, build_account
from transform import paths
from transform.run import RunReport, run

AS_OF = date(2026, 11, 24)
USER_ID = "10001"
API_KEY = "test-key-6d1f0c2b-never-print-me"


@dataclass
class Env:
    """One test's world: its sandbox account and server, and where its warehouse lives."""

    account: Account
    server: SandboxServer
    warehouse: Path
    monkeypatch: pytest.MonkeyPatch

    def sync(self, as_of: str = AS_OF.isoformat(), **kwargs: object) -> RunReport:
        """One pipeline run (extract, load, dbt build) against this env's sandbox."""
        self.monkeypatch.setenv("ACUITY_AS_OF", as_of)
        return run(settings_from_env(**kwargs))  # type: ignore[arg-type]

    def query(self, sql: str) -> list[tuple]:
        with duckdb.connect(str(self.warehouse), read_only=True) as connection:
            return connection.execute(sql).fetchall()

    def assert_marts_equal_ground_truth(self, tenant_id: str = "default") -> None:
        assert_marts_equal_ground_truth(self.query, self.account, tenant_id)

    def scalar(self, sql: str) -> object:
        return self.query(sql)[0][0]


def isolate(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Its own warehouse under ``root`` (dlt's folder and dbt's target live beside it, as for every warehouse); no
    setting leaks in from the caller's shell."""
    for name in list(os.environ):
        if name.startswith("ACUITY_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("ACUITY_WAREHOUSE", str(root / "acuity.duckdb"))
    # a developer's own .dlt/secrets.toml must not turn a sandbox test into a sync of their account (dlt takes an
    # empty variable as set)
    monkeypatch.setenv("SOURCES__ACUITY__USER_ID", "")
    monkeypatch.setenv("SOURCES__ACUITY__API_KEY", "")
    # fast retries: the sandbox's faults are short bursts
    monkeypatch.setenv("RUNTIME__REQUEST_BACKOFF_FACTOR", "0.05")
    monkeypatch.setenv("RUNTIME__REQUEST_MAX_RETRY_DELAY", "1")


@contextlib.contextmanager
def sandbox_env(root: Path, monkeypatch: pytest.MonkeyPatch, readings: Readings | None = None) -> Iterator[Env]:
    """The default (seed-shaped) sandbox served over HTTP, with the pipeline's credentials pointing at it.

    ``readings``: where Acuity's documentation is silent, the other reading the sandbox should serve (sandbox.Readings).
    """
    isolate(root, monkeypatch)
    account = build_account(scenario="seed", seed=42, as_of=AS_OF, readings=readings)
    with SandboxServer({USER_ID: (API_KEY, account)}) as server:
        monkeypatch.setenv("ACUITY_BASE_URL", server.base_url)
        monkeypatch.setenv("ACUITY_USER_ID", USER_ID)
        monkeypatch.setenv("ACUITY_API_KEY", API_KEY)
        yield Env(account, server, root / "acuity.duckdb", monkeypatch)


Query = Callable[[str], list[tuple]]


def assert_marts_equal_ground_truth(query: Query, account: Account, tenant_id: str = "default") -> None:
    """The tenant's latest sync_metrics row and its marts say what the sandbox knows to be true."""
    truth = account.ground_truth()
    names = [
        "contacts_processed", "future_appointments", "appointments_persisted", "appointments_skipped_unmatched",
        "appointments_skipped_canceled", "total_revenue", "unmatched_revenue", "contacts_with_revenue",
    ]  # fmt: skip
    rows = query(f"select {', '.join(names)} from marts.sync_metrics where tenant_id = '{tenant_id}'")
    assert len(rows) == 1
    assert dict(zip(names, rows[0], strict=True)) == {
        "contacts_processed": truth["clients"],
        "future_appointments": truth["future_active"],
        "appointments_persisted": truth["future_matched"],
        "appointments_skipped_unmatched": truth["future_unmatched"],
        "appointments_skipped_canceled": truth["future_canceled"],
        "total_revenue": truth["revenue_total"],
        "unmatched_revenue": truth["unmatched_revenue"],
        "contacts_with_revenue": truth["contacts_with_revenue"],
    }
    assert query(f"select count(*) from marts.contacts where tenant_id = '{tenant_id}'") == [(truth["persons"],)]
    future = query(f"select appointment_id, match_rule from marts.future_appointments where tenant_id = '{tenant_id}'")
    assert dict(future) == truth["future_match_rules"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# ---- day N: the pipeline as a separate process, killed with SIGKILL at a chosen moment -----------------------------

PROJECT = Path(__file__).resolve().parents[1]
# The marts, and what in them legitimately differs between a warehouse with history and a clean one: run ids, how
# many versions raw holds, and appointments deleted before the clean run ever saw them (kept as removed).
MARTS = ("contacts", "future_appointments", "contact_revenue", "rejected_records", "orders", "appointments")
_HISTORY_ONLY_COLUMNS = {"run_id", "version_count", "removed_at"}
_HISTORY_ONLY_ROWS = {"appointments": "where status <> 'removed'"}


def pipeline_env(server: SandboxServer, warehouse: Path, user_id: str = USER_ID, **settings: str) -> dict[str, str]:
    """What an operator's shell holds: credentials for the server and the warehouse, plus ``settings``
    (``ACUITY_PAGE_SIZE="200"``); nothing else of ours."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACUITY_")}
    return {
        **env,
        "ACUITY_BASE_URL": server.base_url,
        "ACUITY_USER_ID": user_id,
        "ACUITY_API_KEY": API_KEY,
        "ACUITY_WAREHOUSE": str(warehouse),
        **settings,
    }


# `python -m transform`, killed (with its process group) the moment its publish has written the temp copy and not yet
# swapped it in: the worst moment, reached every time. A poller watching for the temp file, which exists for a few
# milliseconds, could miss it on a loaded machine.
_DIES_PUBLISHING = """
import os, runpy, shutil, signal, types
import transform.publish as publish

def copy_then_die(source, target):
    shutil.copyfile(source, target)
    os.killpg(0, signal.SIGKILL)

publish.shutil = types.SimpleNamespace(copyfile=copy_then_die)
runpy.run_module("transform", run_name="__main__", alter_sys=True)
"""


def pipeline_process(env: dict[str, str], *args: str, dies_publishing: bool = False) -> subprocess.Popen:
    """``python -m transform`` exactly as ``make pipeline`` runs it, in its own process group (so a kill takes dbt's
    child too), output captured; ``dies_publishing``: SIGKILLed halfway through its publish."""
    command = ["-c", _DIES_PUBLISHING] if dies_publishing else ["-m", "transform"]
    return subprocess.Popen(
        [sys.executable, *command, *args],
        env=env,
        cwd=PROJECT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def run_pipeline(env: dict[str, str], *args: str, timeout: float = 300) -> str:
    """One whole run that must succeed; its output."""
    process = pipeline_process(env, *args)
    output = process.communicate(timeout=timeout)[0]
    assert process.returncode == 0, output
    return output


def kill_when(process: subprocess.Popen, reached: Callable[[], bool], what: str, timeout: float = 120.0) -> None:
    """SIGKILL the process group as soon as ``reached()``; fail if the run ends or the moment never comes."""
    deadline = time.monotonic() + timeout
    while not reached():
        if process.poll() is not None:
            raise AssertionError(f"the run ended before {what}: {process.stdout.read() if process.stdout else ''}")
        if time.monotonic() > deadline:
            os.killpg(process.pid, signal.SIGKILL)
            raise AssertionError(f"never reached: {what}")
        time.sleep(0.002)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL


def request_arrives(server: SandboxServer, endpoint: str) -> Callable[[], bool]:
    """True once a request for ``endpoint`` (``/orders``) reaches ``server`` after this call. The sandbox logs a
    request as it arrives, so with a delaying fault on that endpoint a kill lands while the run waits for its answer,
    at the same moment every time."""
    seen = len(server.request_log)
    path = f"{urlsplit(server.base_url).path}{endpoint}"
    return lambda: any(target.split("?")[0] == path for _, target, _ in server.request_log[seen:])


def normalized_package(warehouse: Path, tenant_id: str = "default") -> Callable[[], bool]:
    """True once dlt has a normalized package waiting to load (the load stage has begun)."""
    folder = paths.pipelines_dir(warehouse) / f"acuity_{tenant_id}" / "load" / "normalized"
    return lambda: folder.exists() and any(folder.iterdir())


def loading_package(warehouse: Path, tenant_id: str = "default") -> Callable[[], bool]:
    """True once a package is normalized and nothing is left to normalize: the run is in its load stage proper."""
    extracted = paths.pipelines_dir(warehouse) / f"acuity_{tenant_id}" / "normalize" / "extracted"
    normalized = normalized_package(warehouse, tenant_id)
    return lambda: normalized() and not (extracted.exists() and any(extracted.iterdir()))


def child_has_open(process: subprocess.Popen, path: Path) -> Callable[[], bool]:
    """True once another process of the run's group (dbt's child) has ``path`` open: the build has started."""

    def opened() -> bool:
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit() or int(proc.name) == process.pid:
                continue
            try:
                if os.getpgid(int(proc.name)) != process.pid:
                    continue
                if any(os.readlink(fd) == str(path) for fd in (proc / "fd").iterdir()):
                    return True
            except OSError:
                continue
        return False

    return opened


def killed_publishing(warehouse: Path, env: dict[str, str], *args: str) -> None:
    """One run on ``warehouse`` SIGKILLed halfway through its publish: its full temp copy written, the analysts' copy
    not yet swapped."""
    process = pipeline_process(env, *args, dies_publishing=True)
    output = process.communicate(timeout=300)[0]
    assert process.returncode == -signal.SIGKILL, f"the run was not killed while publishing: {output}"
    published = paths.analyst_path(warehouse)
    assert list(published.parent.glob(f".{published.name}.*.tmp")), "the killed publish left its temp copy"


def mart_rows(path: Path, marts: tuple[str, ...] = MARTS) -> dict[str, list[tuple]]:
    """Every mart's rows, minus what legitimately differs between a warehouse with history and a clean one."""
    with duckdb.connect(str(path), read_only=True) as connection:
        rows = {}
        for mart in marts:
            names = [r[0] for r in connection.execute(f"describe marts.{mart}").fetchall()]
            kept = ", ".join(name for name in names if name not in _HISTORY_ONLY_COLUMNS)
            where = _HISTORY_ONLY_ROWS.get(mart, "")
            rows[mart] = sorted(connection.execute(f"select {kept} from marts.{mart} {where}").fetchall(), key=str)
        return rows


def assert_same_marts(path: Path, expected: Path) -> None:
    """The marts of ``path`` equal those of ``expected``; on a difference, the differing rows of each mart."""
    got, want = mart_rows(path), mart_rows(expected)
    differences = {
        mart: {"only here": sorted(set(got[mart]) - set(want[mart]), key=str)[:5],
               "only there": sorted(set(want[mart]) - set(got[mart]), key=str)[:5]}
        for mart in got
        if got[mart] != want[mart]
    }  # fmt: skip
    assert not differences, differences
