"""The daily run: pick the accounts (or the embedded sandbox), sync each, build the models, report.

A tenant that fails is reported and does not stop the others; the exit code is non-zero when anything failed.
"""

from __future__ import annotations

import contextlib
import secrets
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import dlt

from extract.config import SyncSettings, Tenant, tenant_from_env
from extract.pipeline import SyncResult, sync_tenant
from transform.dbt import DbtOutcome, run_dbt
from transform.paths import pipelines_dir, warehouse_path

SANDBOX_USER_ID = "10001"


@dataclass
class RunReport:
    settings: SyncSettings
    source: str
    syncs: list[SyncResult] = field(default_factory=list)
    dbt: DbtOutcome | None = None
    dbt_seconds: float = 0.0
    seconds: float = 0.0

    @property
    def failures(self) -> list[str]:
        lines = [f"tenant {s.tenant_id}: {s.error}" for s in self.syncs if s.status != "success"]
        if self.dbt is not None and not self.dbt.success:
            lines += [f"dbt build: {line}" for line in self.dbt.failures] or ["dbt build failed"]
        return lines


@contextlib.contextmanager
def embedded_sandbox(settings: SyncSettings, seed: int = 42) -> Iterator[Tenant]:
    """The default account when no credentials are set: the seed-shaped sandbox on a free 127.0.0.1 port."""
    from sandbox import SandboxServer, build_account

    account = build_account(scenario="seed", seed=seed, as_of=settings.as_of.date())
    api_key = secrets.token_urlsafe(16)  # a fresh key per run: nothing to leak, nothing to configure
    with SandboxServer({SANDBOX_USER_ID: (api_key, account)}) as server:
        yield Tenant(tenant_id="default", user_id=SANDBOX_USER_ID, api_key=api_key, base_url=server.base_url)


def run(settings: SyncSettings, use_sandbox: bool = False, log=print) -> RunReport:
    """Sync every tenant, then ``dbt build`` once over all of them."""
    started = time.perf_counter()
    tenant = None if use_sandbox else tenant_from_env()
    with contextlib.ExitStack() as stack:
        if tenant is None:
            tenant = stack.enter_context(embedded_sandbox(settings))
            log(f"No ACUITY_USER_ID/ACUITY_API_KEY set: syncing the embedded sandbox at {tenant.base_url}")
            source = f"embedded sandbox ({tenant.base_url})"
        else:
            source = tenant.base_url
        report = RunReport(settings=settings, source=source)
        destination = dlt.destinations.duckdb(credentials=str(_ensure_parent(warehouse_path())))
        log(f"Syncing tenant {tenant.tenant_id} (as of {settings.as_of:%Y-%m-%d %H:%M} UTC) ...")
        report.syncs.append(sync_tenant(tenant, settings, destination, pipelines_dir()))
    if any(s.status == "success" for s in report.syncs):
        log("Building the dbt models and running their tests ...")
        dbt_started = time.perf_counter()
        report.dbt = run_dbt(["build"], warehouse_path(), {"as_of": settings.as_of.strftime("%Y-%m-%d %H:%M:%S")})
        report.dbt_seconds = time.perf_counter() - dbt_started
    report.seconds = time.perf_counter() - started
    return report


def _ensure_parent(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def fail(lines: list[str]) -> int:
    for line in lines:
        print(f"error: {line}", file=sys.stderr)
    return 1


def report_run(report: RunReport) -> int:
    """Print the per-tenant summaries read from the marts, then the failures; 0 only when nothing failed."""
    import duckdb

    from transform.summary import format_summary, read_summaries

    if report.dbt is not None and report.dbt.success:
        connection = duckdb.connect(str(warehouse_path()))
        try:
            for summary in read_summaries(connection):
                print(format_summary(summary))
        finally:
            connection.close()
    for sync in report.syncs:
        state = "ok" if sync.status == "success" else "FAILED"
        fetched = ", ".join(f"{k} {v}" for k, v in sorted(sync.fetched.items()))
        print(f"sync {sync.tenant_id}: {state} — {sync.requests} requests, fetched {fetched or 'nothing'}")
    print(
        f"Done in {report.seconds:.1f} s (dbt {report.dbt_seconds:.1f} s). Source: {report.source}."
        f" Warehouse: {warehouse_path()}"
    )
    return fail(report.failures) if report.failures else 0
