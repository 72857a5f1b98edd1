"""One tenant's sync: extract and load its raw tables with dlt, then record the run row dbt reads.

Each tenant has its own dlt pipeline (and so its own incremental state) writing into the shared ``raw_acuity``
dataset; tenants are told apart by the ``tenant_id`` column every raw row carries.
"""

from __future__ import annotations

import os
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import dlt
from dlt.common.destination import Destination

from extract.client import AcuityClient
from extract.config import SyncSettings, Tenant
from extract.errors import AcuityError
from extract.source import AppointmentWindow, acuity_source

RAW_DATASET = "raw_acuity"

RESOURCES = ("account", "calendars", "appointment_types", "clients", "appointments", "orders")
ENDPOINTS = {
    "account": "/me",
    "calendars": "/calendars",
    "appointment_types": "/appointment-types",
    "clients": "/clients",
    "appointments": "/appointments",
    "orders": "/orders",
}
_STATUS_COLUMNS = ("clients", "appointments", "orders")  # the seed's *_status fields, plus orders
_STEPS = ("extract", "normalize", "load")

# Every column is declared so the table has them all even when the first run ever recorded is a failure.
SYNC_RUN_COLUMNS: dict[str, Any] = {
    **{name: {"data_type": "text"} for name in ("run_id", "tenant_id", "tenant_label", "status", "error", "load_id")},
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
}


@dataclass
class SyncResult:
    """What one tenant's sync did; ``error`` is the one-line cause when it failed."""

    tenant_id: str
    run_id: str
    status: str
    window: AppointmentWindow
    fetched: Counter[str] = field(default_factory=Counter)
    requests: int = 0
    requests_by_endpoint: dict[str, int] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    error: str | None = None


def make_pipeline(tenant_id: str, destination: Destination, pipelines_dir: Path) -> dlt.Pipeline:
    return dlt.pipeline(
        pipeline_name=f"acuity_{tenant_id}",
        destination=destination,
        dataset_name=RAW_DATASET,
        pipelines_dir=str(pipelines_dir),
        progress=os.environ.get("ACUITY_PROGRESS", "log") if os.isatty(2) else None,
    )


def choose_window(pipeline: dlt.Pipeline, settings: SyncSettings) -> AppointmentWindow:
    """First run (or an earlier --since, or --full-refresh): backfill from ``since``; later runs: the live window.

    The live window starts ``lookback_days`` before as-of, so late edits (no-shows, payments) of recent past
    appointments are seen, and ends ``horizon_days`` after it, covering every bookable future slot.
    """
    state = pipeline.state.get("sources", {}).get("acuity", {})
    backfilled_from = state.get("appointments_backfilled_from")
    if settings.full_refresh or backfilled_from is None or settings.since < date.fromisoformat(backfilled_from):
        first = settings.since
    else:
        first = max(settings.live_first, date.fromisoformat(backfilled_from))
    return AppointmentWindow(first=first, last=settings.horizon)


def sync_tenant(
    tenant: Tenant,
    settings: SyncSettings,
    destination: Destination,
    pipelines_dir: Path,
    loader_file_format: str | None = "parquet",
) -> SyncResult:
    """Extract + load one tenant, then append its run row (also when the sync failed, with the cause).

    Into DuckDB the load is parquet: typed and fast, while DuckDB's read_json would re-type ISO-looking strings.
    """
    pipeline = make_pipeline(tenant.tenant_id, destination, pipelines_dir)
    started = datetime.now(UTC)
    run_id = f"{started:%Y%m%dT%H%M%S}_{tenant.tenant_id}_{uuid.uuid4().hex[:8]}"
    client = AcuityClient(tenant.base_url, tenant.user_id, tenant.api_key)
    fetched: Counter[str] = Counter()
    window = AppointmentWindow(settings.since, settings.horizon)
    result = SyncResult(tenant.tenant_id, run_id, "failed", window, fetched)
    load_id = None
    try:
        pipeline.sync_destination()  # restores state (and the backfill marker) on a machine that lost it
        window = result.window = choose_window(pipeline, settings)
        source = acuity_source(client, tenant.tenant_id, window, settings.page_size, fetched, run_id)
        info = pipeline.run(source, loader_file_format=loader_file_format)
        load_id = info.loads_ids[-1] if info.loads_ids else None
        result.status = "success"
    except Exception as exc:  # recorded in the run row, then re-raised by the caller's report
        result.error = one_line(exc)
    result.seconds = _step_seconds(pipeline)
    result.requests = client.stats.requests
    result.requests_by_endpoint = dict(client.stats.by_endpoint)
    result.statuses = dict(client.stats.statuses)
    row = {
        "run_id": run_id,
        "tenant_id": tenant.tenant_id,
        "tenant_label": tenant.label or tenant.tenant_id,
        "status": result.status,
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
        **{f"fetched_{name}": fetched.get(name, 0) for name in RESOURCES},
        **_rejection_counts(fetched),
        **{f"{step}_seconds": result.seconds.get(step) for step in _STEPS},
    }
    try:
        pipeline.run([row], table_name="sync_runs", write_disposition="append", columns=SYNC_RUN_COLUMNS)
    except Exception as exc:
        result.status = "failed"
        result.error = result.error or f"could not record the run row: {one_line(exc)}"
    return result


def _rejection_counts(counts: Counter[str]) -> dict[str, int]:
    """Quarantine counts for the run row; keys are ``<resource>_<action>_<reason>`` (extract.source._Screen)."""
    return {
        "appointments_rejected_time": counts["appointments_skipped_missing_datetime"]
        + counts["appointments_skipped_invalid_datetime"],
        "appointments_rejected_invalid": counts["appointments_skipped_missing_id"],
        "records_skipped": sum(n for key, n in counts.items() if "_skipped_" in key),
        "records_flagged": sum(n for key, n in counts.items() if "_kept_" in key),
        "records_deduplicated": sum(n for key, n in counts.items() if "_deduplicated_" in key),
    }


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
