"""Shared fixtures: a real sandbox on 127.0.0.1, a throwaway warehouse and dlt folder, and a runner that performs a
whole sync (extract + dbt build) exactly as ``make pipeline`` does, against that sandbox."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pytest

from extract.config import settings_from_env
from sandbox import Account, SandboxServer, build_account
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

    def scalar(self, sql: str) -> object:
        return self.query(sql)[0][0]


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own warehouse and dlt state; nothing touches the repository's warehouse/."""
    monkeypatch.setenv("ACUITY_WAREHOUSE", str(tmp_path / "acuity.duckdb"))
    monkeypatch.setenv("ACUITY_DLT_DIR", str(tmp_path / "dlt"))
    monkeypatch.setenv("ACUITY_DBT_TARGET_PATH", str(tmp_path / "dbt_target"))
    monkeypatch.setenv("RUNTIME__DLTHUB_TELEMETRY", "false")
    # fast retries: the sandbox's faults are short bursts
    monkeypatch.setenv("RUNTIME__REQUEST_BACKOFF_FACTOR", "0.05")
    monkeypatch.setenv("RUNTIME__REQUEST_MAX_RETRY_DELAY", "1")
    for name in ("ACUITY_USER_ID", "ACUITY_API_KEY", "ACUITY_BASE_URL", "ACUITY_SINCE", "ACUITY_TENANT_ID"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


@pytest.fixture
def env(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Env]:
    """The default (seed-shaped) sandbox served over HTTP, with the pipeline's credentials pointing at it."""
    account = build_account(scenario="seed", seed=42, as_of=AS_OF)
    with SandboxServer({USER_ID: (API_KEY, account)}) as server:
        monkeypatch.setenv("ACUITY_BASE_URL", server.base_url)
        monkeypatch.setenv("ACUITY_USER_ID", USER_ID)
        monkeypatch.setenv("ACUITY_API_KEY", API_KEY)
        yield Env(account, server, Path(os.environ["ACUITY_WAREHOUSE"]), monkeypatch)
