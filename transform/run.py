"""The daily run: pick the accounts (or the embedded sandbox), sync each, build the models, report.

A tenant that fails is reported and neither blocks nor rolls back the others; the exit code is non-zero when anything
failed. All tenants share one rate limiter (extract.ratelimit), since Acuity limits per IP, not per account.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from extract import AcuityError
from extract.config import SyncSettings, Tenant, tenant_from_env, tenants_from_file
from extract.pipeline import SyncResult, one_line, stage_of, sync_tenant
from extract.source import ENDPOINTS, RESOURCES
from transform import access as file_access
from transform import erasures
from transform import warehouse as warehouses
from transform.dbt import DbtOutcome, DbtProcess
from transform.errors import PipelineError, disk_failure
from transform.journal import Journal, describe, left_by_earlier_runs
from transform.publish import exclusive_run, pseudonymised, publish, remove_leftovers
from transform.rewrite import rewrite
from transform.signals import Interrupted, code_of, requested, signal_name, stop_if_requested

SANDBOX_USER_ID = "10001"
DEMO_TENANT = "demo"


@dataclass
class RunReport:
    settings: SyncSettings
    source: str
    target: warehouses.Warehouse
    syncs: list[SyncResult] = field(default_factory=list)
    dbt: DbtOutcome | None = None
    dbt_seconds: float = 0.0
    seconds: float = 0.0
    published: Path | None = None
    history_built: bool = False  # no sync succeeded, but marts.sync_runs/sync_freshness were rebuilt with the failures

    @property
    def failures(self) -> list[str]:
        lines = [f"tenant {s.tenant_id}: {s.error}" for s in self.syncs if s.status != "success"]
        # published, but records a read did not return were kept rather than retired: the operator looks
        lines += [f"tenant {s.tenant_id}: {s.held}" for s in self.syncs if s.status == "success" and s.held]
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
        yield Tenant(tenant_id=DEMO_TENANT, user_id=SANDBOX_USER_ID, api_key=api_key, base_url=server.base_url)


def configured_tenants(tenants_file: str | None) -> list[Tenant]:
    """A tenants file (flag or ``ACUITY_TENANTS_FILE``), else the single account in ``ACUITY_USER_ID``/``_API_KEY``."""
    path = tenants_file or os.environ.get("ACUITY_TENANTS_FILE")
    if path:
        return tenants_from_file(Path(path))
    single = tenant_from_env()
    return [single] if single else []


def tenants_or_demo(tenants_file: str | None = None, sandbox: bool = False) -> list[Tenant]:
    """The accounts to sync; none means the embedded demo, which runs only when asked for (``--sandbox``) or while
    the real warehouse does not exist yet: on a deployment, missing credentials (a typo in an env file) must fail the
    daily job, not sync the demo and exit 0 while the real data goes stale."""
    if sandbox:
        return []
    tenants = configured_tenants(tenants_file)
    real = warehouses.current()
    if not tenants and real.target == "duckdb" and real.path.exists():
        raise PipelineError(
            "no Acuity credentials: ACUITY_USER_ID and ACUITY_API_KEY are not set (nor ACUITY_TENANTS_FILE/--tenants),"
            f" and {real.describe()} holds a real account's data; set them (check the spelling in your environment"
            " file), or pass --sandbox to sync the demo account into its own warehouse"
        )
    return tenants


def run(
    settings: SyncSettings,
    use_sandbox: bool = False,
    tenants_file: str | None = None,
    log: Callable[[str], None] = print,
    dbt: DbtProcess | None = None,
    tenants: list[Tenant] | None = None,
    force_as_of: bool = False,
) -> RunReport:
    """Sync every tenant, then ``dbt build`` once over all of them, then publish the analysts' copy.

    ``tenants`` are the accounts to sync (default: the configured ones, ``tenants_or_demo``); none means the embedded
    demo, which writes its own warehouse (``transform.paths.DEMO_FOLDER``) so demo data never mixes with a real
    account's history. ``dbt`` is a child started ahead by the caller for that same warehouse; without one, the run
    starts its own as it begins. A disk that refuses — full, read-only, not ours to write — ends the run with one
    ``PipelineError`` line (``stopped_by_the_disk``). An as-of earlier than a tenant's last run, or far ahead of the
    clock, is refused unless ``force_as_of``. A stop (SIGINT/SIGTERM, transform.signals) raises ``Interrupted``
    naming what it interrupted; the journal (transform.journal) records it for the next run. What the run writes is
    readable by its owner and ``ACUITY_FILE_GROUP`` only (transform.access); forgotten people are stored anonymised
    (transform.erasures), and a DuckDB file from which a sync removed anything is rewritten (transform.rewrite).
    """
    started = time.perf_counter()
    if tenants is None:
        tenants = tenants_or_demo(tenants_file, use_sandbox)
    target = warehouses.current(demo=not tenants)
    access = file_access.current()
    pseudonymised()  # a bad value stops the run before it starts
    target.check_folder()
    with contextlib.ExitStack() as stack:
        stack.enter_context(file_access.restricted(access))
        step = stack.enter_context(stopped_by_the_disk(target))
        stack.enter_context(exclusive_run(target.path))
        target.check_file()
        file_access.secure(target, access)
        erasures.check(target.path)  # the erasure log and its salt, before anything is stored
        for erasure in erasures.unverified(target.path):
            log(
                f"warning: erasure {erasure.erasure_id} (tenant {erasure.tenant_id}) was not verified: run the same"
                " forget again to finish it (docs/privacy.md)"
            )
        check_as_of(target, settings, [t.tenant_id for t in tenants] or [DEMO_TENANT], force_as_of)
        for leftover in remove_leftovers(target.path):
            log(f"Removed {leftover.name}, left by a run killed while publishing")
        journal = stack.enter_context(journaled(target, settings))
        owed = left_by_earlier_runs(target.path, journal.path)
        for rows in owed.values():
            for row in rows:
                log(f"Recording an earlier run of tenant {row['tenant_id']}: {row['status']} — {row['error']}")
        dbt = dbt or stack.enter_context(DbtProcess(target))  # gets dbt ready while the tenants sync
        with contextlib.ExitStack() as sources:  # the embedded sandbox serves the syncs only
            if tenants:
                source = ", ".join(sorted({t.base_url for t in tenants}))
            else:
                tenants = [sources.enter_context(embedded_sandbox(settings))]
                log(
                    f"No ACUITY_USER_ID/ACUITY_API_KEY set: syncing the embedded demo account at {tenants[0].base_url}"
                    f" into its own warehouse {target.describe()}"
                )
                source = f"embedded sandbox ({tenants[0].base_url})"
            report = RunReport(settings=settings, source=source, target=target)
            for tenant in tenants:
                log(f"Syncing tenant {tenant.tenant_id} (as of {settings.as_of:%Y-%m-%d %H:%M} UTC) ...")
                step.doing = f"syncing tenant {tenant.tenant_id}"
                journal.at("sync", tenant.tenant_id)
                destination = target.destination()
                earlier = [row for rows in owed.values() for row in rows]
                with dlt_log_held() as held:
                    try:
                        result = sync_tenant(
                            tenant,
                            settings,
                            destination,
                            target.pipelines_dir,
                            target.loader_file_format,
                            log=log,
                            where=target.describe(),
                            earlier=earlier,
                            forgotten=erasures.forgotten(target.path, tenant.tenant_id),
                        )
                    except KeyboardInterrupt as stop:
                        journal.at(stage_of(stop.__cause__) if stop.__cause__ else journal.stage, tenant.tenant_id)
                        raise
                report.syncs.append(result)
                journal.recorded(
                    tenant.tenant_id,
                    result.run_id,
                    result.status if result.recorded else None,
                    (result.stage or "load", result.error or "") if result.status != "success" else None,
                )
                if result.recorded and owed:
                    for path in owed:
                        path.unlink(missing_ok=True)
                    owed = {}
                log(format_sync(result))
                if result.status == "success":
                    log_dlt_records(held, log)  # a failed sync's one line says why; dlt's records only repeat it
                step.stop_if_the_disk(result.cause)  # every later step would fail alike
                if requested():  # a stop swallowed during the sync (see transform.signals.requested)
                    journal.at("dbt")  # what it prevented: the build of what this sync loaded
                    raise Interrupted(requested() or 0, f"syncing tenant {tenant.tenant_id}")
        if any(s.status == "success" for s in report.syncs):
            stop_if_requested()
            log("Building the dbt models and running their tests ...")
            step.doing = "building the models"
            journal.at("dbt")
            dbt_started = time.perf_counter()
            # models + data tests (the invariants); unit tests check the SQL logic and run in `make test`.
            # No --vars: the models take as-of from the run rows, and unchanged vars keep dbt's partial parse.
            report.dbt = dbt.run(["build", "--exclude-resource-type", "unit_test"], artifacts=False)
            report.dbt_seconds = time.perf_counter() - dbt_started
            for warning in report.dbt.warnings:  # a test that only warns must still be seen: one line each
                log(f"  dbt warning: {warning}")
            step.stop_if_the_disk(" ".join(report.dbt.failures))
            if not report.dbt.success and report.dbt.failing_sql:  # whose data broke which test, on its line
                connection = target.connect()
                try:
                    report.dbt.name_rows(connection)
                finally:
                    connection.close()
            if target.target == "duckdb" and any(s.removed for s in report.syncs):
                stop_if_requested()
                step.doing = "rewriting the warehouse file"  # what the syncs removed must not stay in freed blocks
                rewrite(target.path, access)
            if report.dbt.success and target.target == "duckdb":
                stop_if_requested()
                step.doing = "publishing the analysts' copy"
                journal.at("publish")
                report.published = publish(target.path)
                file_access.secure(target, access)  # a first run created the warehouse file
            if report.dbt.success:
                journal.at("done")
        elif any(s.recorded for s in report.syncs):
            # nothing to build, but the failures are on record: the run history the summary reads (marts.sync_runs,
            # sync_freshness) is rebuilt in the private warehouse, so it can say when the last good run was; nothing
            # is published, and a warehouse never built before simply has no history to rebuild
            history = dbt.run(["build", "--select", "sync_runs", "sync_freshness"], artifacts=False)
            report.history_built = history.success
        journal.failures = report.failures
    report.seconds = time.perf_counter() - started
    return report


# how far ahead of the clock an as-of may lie without --force-as-of: a typo'd year, not a plan
AS_OF_AHEAD = timedelta(days=7)


def force_as_of() -> bool:
    """``ACUITY_FORCE_AS_OF=1``: the environment's way to say ``--force-as-of``."""
    return os.environ.get("ACUITY_FORCE_AS_OF", "").strip().lower() in ("1", "true", "yes")


def check_as_of(target: warehouses.Warehouse, settings: SyncSettings, tenant_ids: list[str], force: bool) -> None:
    """Refuse, in one line, an as-of that would publish a view older than the last run's or one from the future."""
    if force:
        return
    as_of, now = settings.as_of, datetime.now(UTC)
    how = "pass --force-as-of (ACUITY_FORCE_AS_OF=1) to run it anyway"
    if as_of > now + AS_OF_AHEAD:
        raise PipelineError(
            f"as-of {as_of:%Y-%m-%d %H:%M} UTC lies {(as_of - now).days} days ahead of the clock: the marts would call"
            f" today's bookings history; leave --as-of/ACUITY_AS_OF unset to use the clock, or {how}"
        )
    last = last_as_of(target)
    for tenant_id in tenant_ids:
        if tenant_id in last and as_of < last[tenant_id]:
            raise PipelineError(
                f"as-of {as_of:%Y-%m-%d %H:%M} UTC is earlier than tenant {tenant_id}'s last run (as of"
                f" {last[tenant_id]:%Y-%m-%d %H:%M} UTC): the analysts' copy would go back to an older view; leave"
                f" --as-of/ACUITY_AS_OF unset to use the clock, or {how}"
            )


def last_as_of(target: warehouses.Warehouse) -> dict[str, datetime]:
    """Each tenant's latest as-of among its successful runs; none on a warehouse with no run yet."""
    if target.target == "duckdb" and not target.path.exists():
        return {}
    connection = target.connect()
    try:
        cursor = connection.cursor()
        cursor.execute("select tenant_id, max(as_of) from raw_acuity.sync_runs where status = 'success' group by 1")
        rows = cursor.fetchall()
    except Exception:  # no run table yet
        return {}
    finally:
        connection.close()
    return {tenant: (when if when.tzinfo else when.replace(tzinfo=UTC)) for tenant, when in rows if when is not None}


@contextlib.contextmanager
def journaled(target: warehouses.Warehouse, settings: SyncSettings) -> Iterator[Journal]:
    """This run's journal: on its way out it keeps the rows the run owes (transform.journal), and a stop becomes
    ``Interrupted`` naming where the run was."""
    journal = Journal.begin(target.path, settings.as_of)
    try:
        yield journal
    except BaseException as exc:
        if not isinstance(exc, KeyboardInterrupt) and requested() is None:
            journal.close(journal.owed("failed", one_line(exc) if not isinstance(exc, PipelineError) else str(exc)))
            raise
        # a stop, also one that surfaced as another error (DuckDB raises its own on a signal during a query)
        code = requested() or code_of(exc)
        doing = getattr(exc, "doing", None) or describe(journal.stage, journal.tenant_id)
        journal.close(journal.owed("interrupted", f"interrupted ({signal_name(code)}) while {doing}"))
        raise Interrupted(code, doing) from None
    else:
        journal.close(journal.owed("failed", journal.failures[0] if journal.failures else ""))


@dataclass
class _Step:
    """What the run is doing, for the line a disk that refuses ends it with."""

    target: warehouses.Warehouse
    doing: str = "starting the run"

    def stop_if_the_disk(self, cause: BaseException | str | None) -> None:
        """End the run in one line when the disk stopped it: full, read-only or not ours to write."""
        failure = disk_failure(cause, self.doing, self.target.path.parent)
        if failure is not None:
            raise failure from None


@contextlib.contextmanager
def stopped_by_the_disk(target: warehouses.Warehouse) -> Iterator[_Step]:
    """The run's one place for a disk that refuses (``transform.errors.disk_failure``), whether a step raised it or
    reported it (a tenant's sync, dbt's build): one line with the cause, the file and the fix, never a traceback.
    The analysts' copy is replaced only by a complete publish, so it still holds the last good run, and the next
    run, once the disk takes writes again, finishes or re-reads what this one left."""
    step = _Step(target)
    try:
        yield step
    except (PipelineError, AcuityError):
        raise
    except Exception as exc:
        step.stop_if_the_disk(exc)
        raise


class _Held(logging.Filter):
    """Holds what dlt's logger would print. The logger's other filters (say ``extract.arrow``'s, installed when the
    pipeline is made, after this one) still decide what that is: a filter list stops at the first ``False``."""

    def __init__(self, logger: logging.Logger) -> None:
        super().__init__()
        self.logger = logger
        self.records: list[logging.LogRecord] = []

    def filter(self, record: logging.LogRecord) -> bool:
        others = (other for other in self.logger.filters if other is not self)
        if all(other.filter(record) if hasattr(other, "filter") else other(record) for other in others):
            self.records.append(record)
        return False


@contextlib.contextmanager
def dlt_log_held() -> Iterator[list[logging.LogRecord]]:
    """dlt's log records (warnings and errors, each with its traceback) held back instead of printed: a failing load
    logs every retry of every job, hundreds of lines for the one cause the run's error line names."""
    logger = logging.getLogger("dlt")
    held = _Held(logger)
    logger.addFilter(held)
    try:
        yield held.records
    finally:
        logger.removeFilter(held)


def log_dlt_records(records: list[logging.LogRecord], log: Callable[[str], None]) -> None:
    """What dlt warned about during a sync that succeeded (say, a retried job), one line each."""
    for record in records:
        log(f"  dlt {record.levelname.lower()}: {' '.join(record.getMessage().split())[:500]}")


def report_run(report: RunReport) -> int:
    """Print the per-tenant summaries read from the marts, then the failures; 0 only when nothing failed."""
    from transform.summary import format_summary, read_summaries

    summarised: set[str] = set()
    if report.dbt is not None and report.dbt.success:
        connection = report.target.connect()
        try:
            for summary in read_summaries(connection):
                print(format_summary(summary))
                summarised.add(summary.tenant_id)
        finally:
            connection.close()
    failed = [s.tenant_id for s in report.syncs if s.status != "success" and s.tenant_id not in summarised]
    for line in since_last_success(report, failed):
        print(line)
    print(
        f"Done in {report.seconds:.1f} s (dbt {report.dbt_seconds:.1f} s). Source: {report.source}."
        f" Warehouse: {report.target.describe()}"
    )
    if report.published is not None:
        print(f"Published for analysts (read-only, `make sql`): {report.published}")
    elif report.target.target == "duckdb":
        print("Nothing published: the analysts' copy still holds the last good run.")
    return fail(report.failures) if report.failures else 0


def since_last_success(report: RunReport, tenant_ids: list[str]) -> list[str]:
    """For tenants whose sync failed and have no fresh summary: when their last successful run was and how many runs
    failed since, from the run history marts (rebuilt by a run whose every sync failed, ``history_built``)."""
    from transform.summary import read_freshness, runs_line

    if not tenant_ids:
        return []
    freshness = {}
    if report.history_built:
        connection = report.target.connect()
        try:
            freshness = read_freshness(connection)
        finally:
            connection.close()
    unrecorded = {s.tenant_id for s in report.syncs if not s.recorded}
    return [
        f"Tenant {tenant_id}: this run failed; {runs_line(freshness.get(tenant_id, {}))}"
        + ("; this run's own row is written by the next run" if tenant_id in unrecorded else "")
        for tenant_id in tenant_ids
    ]


def format_sync(sync: SyncResult) -> str:
    """What one tenant's extract did, per resource: rows read and requests sent (retries included)."""
    state = "ok" if sync.status == "success" else "FAILED"
    steps = ", ".join(f"{step} {seconds:.1f} s" for step, seconds in sync.seconds.items())
    lines = [f"sync {sync.tenant_id}: {state} — {sync.requests} requests{'; ' + steps if steps else ''}"]
    for name in RESOURCES:
        requests = sync.requests_by_endpoint.get(ENDPOINTS[name], 0)
        if requests or name in sync.fetched:
            lines.append(f"  {name:<18} {sync.fetched.get(name, 0):>9,} rows  {requests:>5} requests")
    return "\n".join(lines)


def fail(lines: list[str]) -> int:
    for line in lines:
        print(f"error: {line}", file=sys.stderr)
    return 1
