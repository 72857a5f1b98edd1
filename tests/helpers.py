"""What tests share besides fixtures: the sandbox world a test syncs against, isolation of every setting, and the
ground-truth comparison of the marts. Fixtures built on these live in ``conftest.py``."""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Callable, Iterator
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

    def assert_marts_equal_ground_truth(self, tenant_id: str = "default") -> None:
        assert_marts_equal_ground_truth(self.query, self.account, tenant_id)

    def scalar(self, sql: str) -> object:
        return self.query(sql)[0][0]


def isolate(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Its own warehouse, dlt state and dbt target under ``root``; no setting leaks in from the caller's shell."""
    monkeypatch.setenv("ACUITY_WAREHOUSE", str(root / "acuity.duckdb"))
    monkeypatch.setenv("ACUITY_DLT_DIR", str(root / "dlt"))
    monkeypatch.setenv("ACUITY_DBT_TARGET_PATH", str(root / "dbt_target"))
    monkeypatch.setenv("RUNTIME__DLTHUB_TELEMETRY", "false")
    # fast retries: the sandbox's faults are short bursts
    monkeypatch.setenv("RUNTIME__REQUEST_BACKOFF_FACTOR", "0.05")
    monkeypatch.setenv("RUNTIME__REQUEST_MAX_RETRY_DELAY", "1")
    for name in os.environ:
        if name.startswith("ACUITY_") and name not in ("ACUITY_WAREHOUSE", "ACUITY_DLT_DIR", "ACUITY_DBT_TARGET_PATH"):
            monkeypatch.delenv(name)


@contextlib.contextmanager
def sandbox_env(root: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Env]:
    """The default (seed-shaped) sandbox served over HTTP, with the pipeline's credentials pointing at it."""
    isolate(root, monkeypatch)
    account = build_account(scenario="seed", seed=42, as_of=AS_OF)
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
