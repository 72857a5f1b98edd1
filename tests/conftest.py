"""Fixtures: a real sandbox on 127.0.0.1, a throwaway warehouse and dlt folder, a module-wide synced world and a
throwaway PostgreSQL cluster. Tests are marked by tier (see ``pytest_collection_modifyitems``)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import Env, free_port, isolate, sandbox_env

# Tiers: `pytest -m unit` runs in seconds (pure functions, no sync); `sync` drives the sandbox and dbt; `postgres` and
# `browser` need a server or Chromium; `soak` is the long day-N run. A file's tier is its module-level `pytestmark`.


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test with no tier mark of its own is an integration test: mark it `sync`, so `-m "not sync"` skips it."""
    tiers = {"unit", "sync", "postgres", "browser", "soak"}
    for item in items:
        if not tiers & {mark.name for mark in item.iter_markers()}:
            item.add_marker(pytest.mark.sync)


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own warehouse and dlt state; nothing touches the repository's warehouse/."""
    isolate(tmp_path, monkeypatch)
    return tmp_path


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Env]:
    with sandbox_env(tmp_path, monkeypatch) as world:
        yield world


@pytest.fixture(scope="module")
def synced_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    """One sync of the default sandbox shared by a module's read-only tests (a sync and dbt build take ~10 s)."""
    with (
        pytest.MonkeyPatch.context() as monkeypatch,
        sandbox_env(tmp_path_factory.mktemp("synced"), monkeypatch) as world,
    ):
        assert world.sync().failures == []
        yield world


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A throwaway PostgreSQL cluster on a free 127.0.0.1 port (the Makefile's test target installs PostgreSQL)."""
    initdb = next(iter(sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), reverse=True)), None)
    if initdb is None:
        pytest.fail("PostgreSQL is not installed: run `make test`, which installs it")
    as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    root = Path(tempfile.mkdtemp(prefix="acuity-pg-"))
    if as_postgres:
        shutil.chown(root, "postgres")
    data, port = root / "data", free_port()
    run_quiet = {"check": True, "capture_output": True}
    subprocess.run([*as_postgres, str(initdb), "-D", str(data), "-A", "trust", "-U", "postgres"], **run_quiet)
    pg_ctl = [*as_postgres, str(initdb.parent / "pg_ctl"), "-D", str(data)]
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run([*pg_ctl, "-o", options, "-l", str(root / "log"), "-w", "start"], **run_quiet)
    try:
        subprocess.run(
            [
                *as_postgres,
                str(initdb.parent / "createdb"),
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
                "-U",
                "postgres",
                "acuity",
            ],
            **run_quiet,
        )
        yield f"postgresql://postgres:unused@127.0.0.1:{port}/acuity"  # trust auth; dlt insists on a password
    finally:
        subprocess.run([*pg_ctl, "-m", "immediate", "stop"], check=False, capture_output=True)
        shutil.rmtree(root, ignore_errors=True)
