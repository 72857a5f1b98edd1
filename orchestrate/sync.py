"""One tenant's sync as Dagster assets: its raw tables, one partition per tenant, loaded by dagster-dlt.

The sync itself is ``extract.pipeline.sync_tenant``, called as ``make pipeline`` calls it (pending-load recovery, the
account check, the reconcile slice, record screening, the run row); dagster-dlt's resource only performs its load, so
each raw table's materialization carries dlt's metadata. Each tenant keeps its own dlt pipeline (``acuity_<tenant>``)
and working folder, so two tenants never share dlt state (dagster#21022 is about one pipeline name run twice).
"""

import contextlib
from collections.abc import Iterator
from datetime import date
from typing import Any

import dagster as dg
import dlt
from dagster_dlt import DagsterDltResource, DagsterDltTranslator
from dagster_dlt.translator import DltResourceTranslatorData
from dlt.common.destination import Destination
from dlt.common.pipeline import LoadInfo
from dlt.extract import DltSource

from extract.client import AcuityClient
from extract.config import Tenant, settings_from_env
from extract.errors import AcuityAccountMismatchError, AcuityAuthError, AcuityError, AcuityNotFoundError
from extract.pipeline import SyncResult, sync_tenant
from extract.source import AppointmentWindow, acuity_source
from orchestrate.warehouse import holding
from transform import access as file_access
from transform import erasures
from transform.errors import PipelineError, disk_failure
from transform.warehouse import Warehouse

SOURCE = "acuity"  # dbt's source name for raw_acuity, so dbt's default asset keys meet these
# Raw tables a sync writes besides its resources' own: the run row, and the records it set aside
RUN_TABLES = {
    "sync_runs": "One row per tenant per sync: what it read, skipped and why (extract.pipeline.SYNC_RUN_COLUMNS).",
    "rejected_records": "Records a sync quarantined or flagged, with the reason and Acuity's payload.",
}
# Causes a retry cannot fix: the next scheduled run, after someone acts, is the retry
_PERMANENT = (AcuityAuthError, AcuityNotFoundError, AcuityAccountMismatchError)


class RawTableTranslator(DagsterDltTranslator):
    """Keys each dlt resource as the raw table dbt reads (``acuity/<table>``), so the lineage runs straight on."""

    def __init__(self, target: str) -> None:
        super().__init__()
        self.target = target

    def get_asset_spec(self, data: DltResourceTranslatorData) -> dg.AssetSpec:
        return (
            super()
            .get_asset_spec(data)
            .replace_attributes(key=raw_key(str(data.resource.table_name)), deps=[], group_name=SOURCE)
            .merge_attributes(kinds={self.target})
        )


def raw_key(table: str) -> dg.AssetKey:
    return dg.AssetKey([SOURCE, table])


def raw_specs(translator: RawTableTranslator) -> list[dg.AssetSpec]:
    """Every raw table one sync writes. The source is built only to read its resources' names: nothing is sent."""
    shape = acuity_source(
        AcuityClient("https://shape.invalid", "0", "-"), "shape", AppointmentWindow(date.min, date.min)
    )
    resources = shape.selected_resources.values()
    specs = [translator.get_asset_spec(DltResourceTranslatorData(resource=r, pipeline=None)) for r in resources]
    extra = [
        dg.AssetSpec(raw_key(table), description=text, group_name=SOURCE, kinds={"dlt", translator.target})
        for table, text in RUN_TABLES.items()
    ]
    return [*specs, *extra]


def sync_assets(
    tenants: dict[str, Tenant],
    target: Warehouse,
    partitions: dg.PartitionsDefinition,
    retry: dg.RetryPolicy,
    pool: str | None,
) -> dg.AssetsDefinition:
    """The raw tables of the tenant named by the partition key, materialized together by one sync.

    Not subsettable: a sync reads every table of its tenant in one go, and its run row speaks for all of them.
    ``pool``: the concurrency pool of the step (the one-writer pool on DuckDB, none on PostgreSQL).
    """
    translator = RawTableTranslator(target.target)

    @dg.multi_asset(
        name="sync_tenant",  # the op; the job that runs it is acuity_sync
        specs=raw_specs(translator),
        partitions_def=partitions,
        can_subset=False,
        retry_policy=retry,
        pool=pool,
    )
    def sync(context: dg.AssetExecutionContext, dlt_resource: DagsterDltResource) -> Iterator[Any]:
        tenant = tenants[context.partition_key]
        events: list[Any] = []

        def load(pipeline: dlt.Pipeline, source: DltSource, loader_file_format: str | None) -> LoadInfo:
            events.extend(
                dlt_resource.run(
                    context,
                    dlt_source=source,
                    dlt_pipeline=pipeline,
                    dagster_dlt_translator=translator,
                    loader_file_format=loader_file_format,
                )
            )
            return pipeline.last_trace.last_load_info

        try:
            settings = settings_from_env()  # as-of is now, like every `make pipeline`
        except AcuityError as exc:  # a bad setting: one line, and no retry can fix it
            raise dg.Failure(description=str(exc), allow_retries=False) from None
        try:
            # as under `make pipeline`: files readable by the owner and ACUITY_FILE_GROUP only, the erasure log and
            # its salt checked before anything is stored, and forgotten people stored anonymised. PostgreSQL takes
            # concurrent loads: no lock there, so tenants load in parallel
            with (
                file_access.restricted(file_access.current()),
                holding(target, context.log.info) if target.target == "duckdb" else contextlib.nullcontext(),
            ):
                erasures.check(target.path)
                result = sync_tenant(
                    tenant,
                    settings,
                    destination(target, tenant.tenant_id),
                    target.pipelines_dir,
                    target.loader_file_format,
                    log=context.log.info,
                    where=target.describe(),
                    load=load,
                    forgotten=erasures.forgotten(target.path, tenant.tenant_id),
                )
        except PipelineError as exc:  # the warehouse is unusable (its folder, its file): said in one line
            raise dg.Failure(description=str(exc)) from None
        if result.status != "success":
            raise failure(result, target)
        yield from events
        yield dg.MaterializeResult(asset_key=raw_key("sync_runs"), metadata=run_metadata(result))
        yield dg.MaterializeResult(
            asset_key=raw_key("rejected_records"),
            metadata={"set_aside": dg.MetadataValue.int(result.counts.set_aside())},
        )

    return sync


def destination(target: Warehouse, tenant_id: str) -> Destination:
    """The warehouse as dlt's destination. On PostgreSQL, where tenants load in parallel, each merges through a staging
    schema of its own: dlt empties a staging table as a load begins, so two tenants sharing one merged each other's
    rows (an invariant of marts.sync_metrics failed under `make bench ARGS="--orchestrate 4 --postgres …"`)."""
    if target.target != "postgres":
        return target.destination()
    layout = f"%s_staging_{tenant_id}"  # dlt's documented staging_dataset_name_layout; tenant ids are [a-z0-9_]
    return dlt.destinations.postgres(credentials=target.postgres_url, staging_dataset_name_layout=layout)


def failure(result: SyncResult, target: Warehouse) -> dg.Failure:
    """The sync's one-line cause as the step's failure; retried unless no retry can help (credentials, the wrong
    account, a full or read-only disk)."""
    disk = disk_failure(result.cause, f"syncing tenant {result.tenant_id}", target.path.parent)
    # no cause: the account check refused before anything ran (sync_tenant keeps the error only)
    permanent = disk is not None or result.cause is None or _caused_by(result.cause, _PERMANENT)
    return dg.Failure(
        description=f"tenant {result.tenant_id}: {disk or result.error}",
        metadata=run_metadata(result),
        allow_retries=not permanent,
    )


def _caused_by(exc: BaseException, kinds: tuple[type[BaseException], ...]) -> bool:
    """Whether ``kinds`` is anywhere in the chain: dlt wraps what a resource raised in its own step errors."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, kinds):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def run_metadata(result: SyncResult) -> dict[str, Any]:
    """What the run row says, in the UI: counts and timings only, never a record's content."""
    return {
        "run_id": result.run_id,
        "status": result.status,
        "window": f"{result.window.first} .. {result.window.last}",
        "requests": dg.MetadataValue.int(result.requests),
        **{f"fetched_{name}": dg.MetadataValue.int(n) for name, n in sorted(result.fetched.items())},
        **{f"{step}_seconds": dg.MetadataValue.float(s) for step, s in result.seconds.items()},
        **({"recovered": result.recovered} if result.recovered else {}),
    }
