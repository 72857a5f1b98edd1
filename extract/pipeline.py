"""One tenant's sync: extract and load its raw tables with dlt, then record the run row dbt reads.

Each tenant has its own dlt pipeline (and so its own incremental state) writing into the shared ``raw_acuity``
dataset; tenants are told apart by the ``tenant_id`` column every raw row carries.
"""

from __future__ import annotations

import dataclasses
import os
import uuid
import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import dlt
import pyarrow as pa
from dlt.common.destination import Destination
from dlt.common.pipeline import LoadInfo
from dlt.destinations.exceptions import DatabaseUndefinedRelation
from dlt.extract import DltSource

from extract import arrow
from extract.absence import Budget
from extract.client import AcuityClient
from extract.config import SyncSettings, Tenant
from extract.contract import order_statuses
from extract.errors import AcuityAccountMismatchError, AcuityError, AcuityResponseError
from extract.privacy import Forgotten, Privacy, omits_health
from extract.repair import Reference
from extract.source import (
    ENDPOINTS,
    RESOURCES,
    AppointmentWindow,
    DateSpan,
    Prior,
    ReconcileRead,
    SourceState,
    SyncCounts,
    account_identity,
    acuity_source,
    read_reconcile_slice,
)
from extract.upkeep import Removed, upkeep

RAW_DATASET = "raw_acuity"

_STATUS_COLUMNS = ("clients", "appointments", "orders")  # the seed's *_status fields, plus orders
_CONFIRMED = ("appointments", "orders", "clients")  # the resources whose reads may retire records
_ABSENCE = ("absent", "found", "retired", "held")
_STEPS = ("extract", "normalize", "load")

# Every column is declared so the table has them all even when the first run ever recorded is a failure.
SYNC_RUN_COLUMNS: dict[str, Any] = {
    **{name: {"data_type": "text"} for name in ("run_id", "tenant_id", "tenant_label", "status", "error", "load_id")},
    # where a run that did not succeed stopped: extract, normalize, load (dlt's steps), dbt or publish (transform.run)
    "stage": {"data_type": "text"},
    **{name: {"data_type": "timestamp"} for name in ("as_of", "started_at", "finished_at")},
    "window_first": {"data_type": "date"},
    "window_last": {"data_type": "date"},
    **{f"{step}_seconds": {"data_type": "double"} for step in _STEPS},
    "duration_seconds": {"data_type": "double"},
    "http_seconds": {"data_type": "double"},
    **{name: {"data_type": "bigint"} for name in ("http_requests", "http_bytes", "http_2xx", "http_429")},
    **{name: {"data_type": "bigint"} for name in ("http_4xx_other", "http_5xx")},
    "http_statuses": {"data_type": "json"},
    **{f"{name}_status": {"data_type": "bigint"} for name in _STATUS_COLUMNS},
    **{f"fetched_{name}": {"data_type": "bigint"} for name in RESOURCES},
    **{name: {"data_type": "bigint"} for name in ("appointments_rejected_time", "appointments_rejected_invalid")},
    **{name: {"data_type": "bigint"} for name in ("records_skipped", "records_flagged", "records_deduplicated")},
    # appointments read on the pad day beside the window or slice (extract/paging.py): counted, not loaded
    "appointments_edge_overlap": {"data_type": "bigint"},
    # the slice of older history this run reconciled (issue: Acuity has no "modified since") and what it found
    "reconcile_first": {"data_type": "date"},
    "reconcile_last": {"data_type": "date"},
    "reconcile_status": {"data_type": "text"},
    **{f"reconcile_{name}": {"data_type": "bigint"} for name in ("requests", "added", "changed", "retired")},
    # records the warehouse held that a read did not return (extract/absence.py): found elsewhere or by id and
    # loaded as they are now, retired once confirmed deleted, or held (kept as last seen) for the reason given
    **{f"{resource}_{what}": {"data_type": "bigint"} for resource in _CONFIRMED for what in _ABSENCE},
    "retirement_held": {"data_type": "text"},
    # appointments this run loaded that start from as-of on and are not canceled: what future_appointments must hold,
    # counted here apart from the models (tests/dbt/assert_future_appointments_are_what_the_run_loaded.sql)
    "appointments_future_active": {"data_type": "bigint"},
}


@dataclass
class SyncResult:
    """What one tenant's sync did; ``error`` is the one-line cause when it failed."""

    tenant_id: str
    run_id: str
    status: str
    window: AppointmentWindow
    counts: SyncCounts = field(default_factory=SyncCounts)
    requests: int = 0
    requests_by_endpoint: dict[str, int] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    error: str | None = None
    cause: BaseException | None = field(default=None, repr=False)  # the exception behind ``error``, for the runner
    recovered: str | None = None  # what was done about a load an earlier, killed run left pending
    reconcile: ReconcileRead | None = None  # the slice of older history re-read, when there was one
    held: str | None = None  # why records a read did not return were kept instead of retired (the run then fails)
    stage: str | None = None  # where a failed sync stopped (extract, normalize, load)
    recorded: bool = False  # whether its run row was written (not when dlt holds a pending load)
    removed: Removed = field(default_factory=Removed)  # what upkeep dropped from raw (extract.upkeep)

    @property
    def fetched(self) -> Counter[str]:
        return self.counts.fetched


def make_pipeline(tenant_id: str, destination: Destination, pipelines_dir: Path) -> dlt.Pipeline:
    arrow.quiet_json_hint_warning()
    return dlt.pipeline(
        pipeline_name=f"acuity_{tenant_id}",
        destination=destination,
        dataset_name=RAW_DATASET,
        pipelines_dir=str(pipelines_dir),
        progress=os.environ.get("ACUITY_PROGRESS", "log") if os.isatty(2) else None,
    )


def choose_window(state: SourceState, settings: SyncSettings) -> AppointmentWindow:
    """First run (or an earlier --since, or --full-refresh): backfill from ``since``; later runs: the live window.

    The live window starts ``lookback_days`` before as-of, so late edits (no-shows, payments) of recent past
    appointments are seen, and ends ``horizon_days`` after it, covering every bookable future slot.
    """
    backfilled_from = state.backfilled_from
    if settings.full_refresh or backfilled_from is None or settings.since < backfilled_from:
        first = settings.since
    else:
        first = max(settings.live_first, backfilled_from)
    return AppointmentWindow(first=first, last=settings.horizon)


def choose_reconcile_span(state: SourceState, settings: SyncSettings, window: AppointmentWindow) -> DateSpan | None:
    """The slice of history older than the live window that this run re-reads, in rotation.

    History is [backfilled-from, live window's first date); cut in ``reconcile_runs`` slices, every date of it is
    re-read at least once every ``reconcile_runs`` runs. The position is the tenant's dlt state, committed with the
    load, so a killed run's slice is read again by the next run. A backfilling run reads all history anyway: none.
    """
    if state.backfilled_from is None or window.first <= state.backfilled_from:
        return None
    history = DateSpan(max(settings.since, state.backfilled_from), window.first - timedelta(days=1))
    days = (history.last - history.first).days + 1
    if days <= 0:
        return None
    length = -(-days // settings.reconcile_runs)  # ceiling division
    start = state.reconcile_next
    if start is None or not history.first <= start <= history.last:
        start = history.first
    return DateSpan(start, min(start + timedelta(days=length - 1), history.last))


def _current_versions(pipeline: dlt.Pipeline, tenant_id: str, span: DateSpan) -> dict[Any, str]:
    """Each appointment dated in ``span`` and the hash of its current version (dlt's scd2 row hash, ``_dlt_id``)."""
    try:
        with pipeline.sql_client() as sql:
            table = sql.make_qualified_table_name("appointments")
            rows = sql.execute_sql(
                f"select id, _dlt_id from {table} where tenant_id = %s and _dlt_valid_to is null and {span.sql()}",
                tenant_id,
            )
    except DatabaseUndefinedRelation:  # no appointments table yet
        return {}
    return dict(rows or [])


def read_prior(pipeline: dlt.Pipeline, tenant_id: str, window: AppointmentWindow) -> Prior:
    """What the warehouse holds current where this run's reads may retire it (``extract.absence``): appointment ids
    dated in the window and slice, order ids, client row hashes. Empty on a first sync (no tables yet)."""
    queries = {
        "appointments": f"select id from {{table}} where _dlt_valid_to is null and {window.scope_sql(tenant_id)}",
        "orders": "select id from {table} where _dlt_valid_to is null and tenant_id = %s",
        "clients": "select _dlt_id from {table} where _dlt_valid_to is null and tenant_id = %s",
    }
    found: dict[str, pa.Array] = {}
    for table, query in queries.items():
        try:
            with pipeline.sql_client() as sql:
                qualified = sql.make_qualified_table_name(table)
                args = () if table == "appointments" else (tenant_id,)
                with sql.execute_query(query.format(table=qualified), *args) as cursor, warnings.catch_warnings():
                    # dlt's DuckDB cursor calls DuckDB's deprecated fetch_arrow_table (dlt 1.31, duckdb 1.5)
                    warnings.simplefilter("ignore", DeprecationWarning)
                    answer = cursor.arrow()
        except DatabaseUndefinedRelation:  # no such table yet: nothing to retire
            continue
        if answer is not None and answer.num_rows:
            found[table] = answer.column(0).combine_chunks().drop_null()
    return Prior(**found)


def reconcile_changes(before: dict[Any, str], after: dict[Any, str]) -> dict[str, int]:
    """What reconciling a slice changed: records added, changed (a new version) and retired (gone from Acuity)."""
    return {
        "reconcile_added": len(after.keys() - before.keys()),
        "reconcile_changed": sum(1 for key in after.keys() & before.keys() if after[key] != before[key]),
        "reconcile_retired": len(before.keys() - after.keys()),
    }


def finish_pending_load(pipeline: dlt.Pipeline) -> str | None:
    """Complete, or else abandon, what a killed run left half done, before this run extracts anything.

    dlt keeps a killed run's extracted or normalized package and, on the next ``run(data)``, loads it *instead of*
    extracting (dlt docs, "running in production"): that run would then report having read nothing. So the package is
    finished here, on its own (its data and its state — e.g. the backfill marker — land as if the killed run had
    completed), and this run then extracts its window as usual. A package that cannot be loaded (e.g. written while
    the disk was full) is aborted with dlt's ``abort_packages``, which also rolls the local state back to before it:
    this run's re-read covers what it held. So is one whose load had begun: a job that wrote to the warehouse may not
    have been able to record it (dlt's marker is a file, and a full disk refuses it), and running it again would load
    its rows twice. Nothing is lost: scd2 makes the re-read land as one version, and the aborted package's state,
    never committed, is not restored.
    """
    if not pipeline.has_pending_data:
        return None
    if pipeline.list_extracted_load_packages():
        # killed while normalizing: its package is dropped and its state rolled back; this run reads the same again.
        # (Normalizing it in a later process was seen to retire rows outside its scope: the soak test.)
        pipeline.abort_packages()
        return "discarded what an interrupted run had extracted but not normalized; this run re-reads its window"
    if any(
        _load_began(pipeline.get_load_package_info(load_id)) for load_id in pipeline.list_normalized_load_packages()
    ):
        pipeline.abort_packages()
        return "abandoned the load an interrupted run left pending (it had begun writing); this run re-reads its window"
    try:
        pipeline.run()  # no data: loads the normalized packages only
    except Exception as exc:
        if (stop := _signal_in(exc)) is not None:  # a stop is not a package that cannot load: leave it for later
            raise stop from exc
        pipeline.abort_packages()
        return f"abandoned the load an interrupted run left pending ({one_line(exc)}); this run re-reads its window"
    return "finished loading what an interrupted run had extracted"


def _load_began(package: Any) -> bool:
    """Whether any job of a normalized package left its queue (or was retried): it may have written already."""
    jobs = package.jobs
    return bool(
        jobs["started_jobs"]
        or jobs["completed_jobs"]
        or jobs["failed_jobs"]
        or package.has_pending_transitions
        or any(job.job_file_info.retry_count for job in jobs["new_jobs"])
    )


def recorded_state(pipeline: dlt.Pipeline, tenant_id: str) -> SourceState:
    """The tenant's source state; in a warehouse written before accounts were recorded, the account its raw
    ``account`` table holds (host unknown), so an old warehouse is protected too. A recorded id that is no account
    id (an earlier version stored whatever ``/me`` said: ``{...}``, ``10001.0``, ``True``) counts as none recorded,
    so the next correct run records the real one instead of being refused for good."""
    state = SourceState.of(pipeline.state.get("sources", {}))
    if state.account_id is not None and not state.account_id.isdigit():
        state = dataclasses.replace(state, account_id=None, api_host=None)
    if state.account_id is not None:
        return state
    try:
        with pipeline.sql_client() as sql:
            table = sql.make_qualified_table_name("account")
            rows = sql.execute_sql(
                f"select distinct cast(id as varchar) from {table} where tenant_id = %s and _dlt_valid_to is null",
                tenant_id,
            )
    except DatabaseUndefinedRelation:  # no account table yet: a first sync
        return state
    known = rows[0][0] if rows and len(rows) == 1 else None
    return dataclasses.replace(state, account_id=known) if known is not None and known.isdigit() else state


def check_account(state: SourceState, me: Any, tenant: Tenant, warehouse: str) -> None:
    """Stop before loading when these credentials reach another Acuity account than the tenant's history holds.

    Mixing two accounts under one tenant id would silently merge their histories (and skip the new account's backfill,
    since the tenant looks backfilled already). The first sync records the account; later ones must match it.
    """
    if not isinstance(me, dict):
        raise AcuityResponseError(f"GET /me answered {type(me).__name__} where the account object was expected")
    account_id, host = account_identity(me, tenant.base_url)
    if account_id is None:
        shown = repr(me.get("id"))
        shown = shown if len(shown) <= 40 else shown[:40] + "…"
        raise AcuityResponseError(
            f"GET /me at {tenant.base_url} answered the account id {shown} where a positive integer was expected:"
            " cannot tell which account this is, so nothing was written (check ACUITY_BASE_URL)"
        )
    if state.account_id is None or (state.account_id, state.api_host or host) == (account_id, host):
        return
    held_at = f" at {state.api_host}" if state.api_host else ""  # an older warehouse recorded no host
    raise AcuityAccountMismatchError(
        f"tenant {tenant.tenant_id} in {warehouse} holds Acuity account {state.account_id}{held_at}, but"
        f" these credentials reach account {account_id} at {host}; nothing was loaded. Sync it under another tenant"
        f" id (ACUITY_TENANT_ID, or its own entry in the tenants file) or into another warehouse (ACUITY_WAREHOUSE)"
    )


# Performs the load of a sync's source: today's ``pipeline.run``, or an orchestrator's own call that wraps it
Load = Callable[[dlt.Pipeline, DltSource, str | None], LoadInfo]


def run_source(pipeline: dlt.Pipeline, source: DltSource, loader_file_format: str | None) -> LoadInfo:
    return pipeline.run(source, loader_file_format=loader_file_format)


def sync_tenant(
    tenant: Tenant,
    settings: SyncSettings,
    destination: Destination,
    pipelines_dir: Path,
    loader_file_format: str | None = "parquet",
    log: Callable[[str], None] = print,
    where: str = "the warehouse",
    earlier: list[dict[str, Any]] | None = None,
    load: Load = run_source,
    forgotten: Forgotten | None = None,
) -> SyncResult:
    """Extract + load one tenant, then append its run row (also when the sync failed, with the cause).

    ``where`` names the warehouse in messages; ``earlier`` are run rows earlier runs owe (transform.journal), written
    with this one; ``load`` extracts, normalizes and loads the source (dagster-dlt's resource does it under Dagster,
    so its assets carry dlt's metadata). ``forgotten``: the tenant's forgotten people, whose records load anonymised
    (extract.privacy); the health data setting is resolved against ``/me``, and after the load ``extract.upkeep``
    empties what the run omits and drops what the retention no longer keeps. A signal (``KeyboardInterrupt``) is
    re-raised even where dlt wrapped it: the caller stops the run. Into DuckDB the load is parquet: typed and fast,
    while DuckDB's read_json would re-type ISO-looking strings.
    """
    pipeline = make_pipeline(tenant.tenant_id, destination, pipelines_dir)
    started = datetime.now(UTC)
    run_id = f"{started:%Y%m%dT%H%M%S}_{tenant.tenant_id}_{uuid.uuid4().hex[:8]}"
    client = AcuityClient(
        tenant.base_url,
        tenant.user_id,
        tenant.api_key,
        request_deadline_seconds=settings.request_deadline_seconds,
        run_deadline_seconds=settings.run_deadline_seconds,
    )
    window = AppointmentWindow(settings.since, settings.horizon)
    result = SyncResult(tenant.tenant_id, run_id, "failed", window)
    load_id = None
    reconcile_row: dict[str, Any] = {}
    try:
        result.recovered = finish_pending_load(pipeline)
        if result.recovered:
            log(f"  tenant {tenant.tenant_id}: {result.recovered}")
        pipeline.sync_destination()  # restores state (and the backfill marker) on a machine that lost it
        state = recorded_state(pipeline, tenant.tenant_id)
        me = client.get(ENDPOINTS["account"])
        check_account(state, me, tenant, where)
        privacy = Privacy(omits_health(settings.health_data, me), forgotten)
        # the zones of times sent without an offset (extract.repair.Reference) are known before any appointment
        calendars = client.get(ENDPOINTS["calendars"])
        reference = Reference.of(calendars, me)
        window = result.window = choose_window(state, settings)
        span = choose_reconcile_span(state, settings, window)
        if span is not None:
            before = _current_versions(pipeline, tenant.tenant_id, span)
            result.reconcile = read_reconcile_slice(
                client, span, settings.page_size, settings.page_ceiling, settings.reconcile_budget, reference
            )
            reconcile_row.update(reconcile_first=span.first, reconcile_last=span.last)
            if result.reconcile is None:
                reconcile_row["reconcile_status"] = "over_budget"
                log(
                    f"  tenant {tenant.tenant_id}: reconciling {span.first}..{span.last} needs more than"
                    f" {settings.reconcile_budget} requests; raise ACUITY_RECONCILE_BUDGET or ACUITY_RECONCILE_RUNS"
                )
            else:
                window = result.window = dataclasses.replace(window, reconcile=span)
                reconcile_row.update(reconcile_status="done", reconcile_requests=result.reconcile.requests)
        source = acuity_source(
            client,
            tenant.tenant_id,
            window,
            settings.page_size,
            result.counts,
            run_id,
            me=me,
            page_ceiling=settings.page_ceiling,
            reconcile=result.reconcile,
            calendars=calendars,
            reference=reference,
            prior=read_prior(pipeline, tenant.tenant_id, window),
            budget=Budget(settings.confirm_budget),
            retire_share=settings.retire_share,
            statuses=order_statuses(),
            as_of=settings.as_of,
            privacy=privacy if privacy.omit_health or forgotten else None,
        )
        info = load(pipeline, source, loader_file_format)
        load_id = info.loads_ids[-1] if info.loads_ids else None
        result.removed = upkeep(pipeline, tenant.tenant_id, privacy.omit_health, settings.retention_days, started)
        for line in _privacy_lines(privacy, settings, result.removed):
            log(f"  tenant {tenant.tenant_id}: {line}")
        result.status = "success"
        result.held = "; ".join(a.reason for a in result.counts.absence.values() if a.reason) or None
        if window.reconcile is not None:
            reconcile_row.update(reconcile_changes(before, _current_versions(pipeline, tenant.tenant_id, span)))
    except AcuityAccountMismatchError as exc:  # the history belongs to another account: not even a run row is written
        result.error = str(exc)
        return result
    except Exception as exc:  # recorded in the run row, then re-raised by the caller's report
        if (stop := _signal_in(exc)) is not None:
            raise stop from exc
        result.error, result.cause, result.stage = one_line(exc), exc, stage_of(exc)
    result.seconds = _step_seconds(pipeline)
    result.requests = client.stats.requests
    result.requests_by_endpoint = dict(client.stats.by_endpoint)
    result.statuses = dict(client.stats.statuses)
    counts = result.counts
    row = {
        "run_id": run_id,
        "tenant_id": tenant.tenant_id,
        "tenant_label": tenant.label or tenant.tenant_id,
        "status": result.status,
        "stage": result.stage,
        "error": result.error,
        "load_id": load_id,
        "as_of": settings.as_of,
        "started_at": started,
        "finished_at": (finished := datetime.now(UTC)),
        "duration_seconds": round((finished - started).total_seconds(), 3),
        "window_first": window.first,
        "window_last": window.last,
        "http_requests": client.stats.requests,
        **_status_classes(client.stats.statuses),
        "http_statuses": dict(client.stats.statuses),
        **{f"{name}_status": client.stats.last_status.get(ENDPOINTS[name]) for name in _STATUS_COLUMNS},
        "http_bytes": client.stats.bytes_received,
        "http_seconds": round(client.stats.seconds, 3),
        **{f"fetched_{name}": counts.fetched.get(name, 0) for name in RESOURCES},
        **_rejection_counts(counts),
        "appointments_edge_overlap": counts.edge.get("appointments", 0),
        **_absence_counts(counts),
        "retirement_held": result.held,
        "appointments_future_active": len(counts.future_active),
        **{f"{step}_seconds": result.seconds.get(step) for step in _STEPS},
        **reconcile_row,
    }
    if pipeline.has_pending_data:
        # this run's load failed: dlt would resume that package instead of writing the row, re-running jobs that may
        # have written already; the next run finishes or abandons it (finish_pending_load) and records itself
        return result
    try:
        rows = [row, *(earlier or [])]
        pipeline.run(rows, table_name="sync_runs", write_disposition="append", columns=SYNC_RUN_COLUMNS)
        result.recorded = True
    except Exception as exc:
        if (stop := _signal_in(exc)) is not None:
            raise stop from exc
        result.status = "failed"
        result.error = result.error or f"could not record the run row: {one_line(exc)}"
        result.cause = result.cause or exc
    return result


def _privacy_lines(privacy: Privacy, settings: SyncSettings, removed: Removed) -> list[str]:
    """What the run kept out of the warehouse and removed from it, in counts (never a value)."""
    lines = []
    if privacy.omit_health:
        why = "/me says the account is HIPAA-enabled" if settings.health_data == "auto" else "ACUITY_HEALTH_DATA=omit"
        lines.append(f"health data left out (intake-form answers and notes): {why}")
    if privacy.anonymised:
        lines.append(f"{len(privacy.anonymised)} records of forgotten people stored anonymised")
    if removed:
        lines.append(removed.describe())
    return lines


_TIME_REASONS = ("missing_datetime", "invalid_datetime", "datetime_out_of_range", "datetime_without_offset")


def _rejection_counts(counts: SyncCounts) -> dict[str, int]:
    """Quarantine counts for the run row: every appointment set aside is in exactly one of the first two columns, so
    fetched = loaded + rejected_time + rejected_invalid (reasons as ``extract.validate`` and the source name them)."""
    skipped_appointments = counts.set_aside("appointments", "skipped")
    rejected_time = counts.set_aside("appointments", "skipped", _TIME_REASONS)
    return {
        "appointments_rejected_time": rejected_time,
        "appointments_rejected_invalid": skipped_appointments - rejected_time,
        "records_skipped": counts.set_aside(action="skipped"),
        "records_flagged": counts.set_aside(action="kept"),
        "records_deduplicated": counts.set_aside(action="deduplicated"),
    }


def _absence_counts(counts: SyncCounts) -> dict[str, int]:
    """What became of the records each read did not return (extract/absence.py): absent = found + retired + held."""
    row = {}
    for resource in _CONFIRMED:
        outcome = counts.absence.get(resource)
        row[f"{resource}_absent"] = outcome.absent if outcome else 0
        row[f"{resource}_found"] = len(outcome.found) if outcome else 0
        row[f"{resource}_retired"] = len(outcome.retired) if outcome else 0
        row[f"{resource}_held"] = len(outcome.held) if outcome else 0
    return row


def _status_classes(statuses: Counter[str]) -> dict[str, int]:
    """Flat, portable columns for the statuses analysts ask about (the full map stays in http_statuses)."""
    codes = {int(code): n for code, n in statuses.items()}
    return {
        "http_2xx": sum(n for c, n in codes.items() if 200 <= c < 300),
        "http_429": codes.get(429, 0),
        "http_4xx_other": sum(n for c, n in codes.items() if 400 <= c < 500 and c != 429),
        "http_5xx": sum(n for c, n in codes.items() if c >= 500),
    }


def _step_seconds(pipeline: dlt.Pipeline) -> dict[str, float]:
    trace = pipeline.last_trace
    if trace is None:
        return {}
    return {
        step.step: round((step.finished_at - step.started_at).total_seconds(), 3)
        for step in trace.steps
        if step.step in _STEPS and step.finished_at
    }


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and all(current is not e for e in seen):
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def _signal_in(exc: BaseException) -> BaseException | None:
    """A stop (SIGINT, SIGTERM) behind an error: dlt wraps one raised inside its steps in ``PipelineStepFailed``, and
    DuckDB turns one that arrives during a query into its own ``InterruptException``."""
    for cause in _chain(exc):
        if isinstance(cause, KeyboardInterrupt):
            return cause
        if type(cause).__name__ == "InterruptException":
            return KeyboardInterrupt(str(cause))
    return None


def stage_of(exc: BaseException) -> str:
    """The dlt step (extract, normalize, load) an exception of a sync came from; extract when dlt had not begun."""
    return next((e.step for e in _chain(exc) if getattr(e, "step", None) in _STEPS), "extract")


def one_line(exc: BaseException) -> str:
    """The innermost meaningful message of an exception chain, on one line.

    dlt wraps errors raised inside a resource in ``PipelineStepFailed`` / ``ResourceExtractionError``; the user
    needs the cause (e.g. our AcuityAuthError), not the wrapper's stack description.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    best: BaseException = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, AcuityError):
            best = current
            break
        best = current
        current = current.__cause__ or current.__context__
    text = " ".join(str(best).split())
    return text if isinstance(best, AcuityError) else f"{type(best).__name__}: {text}"[:500]
