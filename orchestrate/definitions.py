"""The Dagster ``Definitions``: each tenant's sync as a partition, the dbt build over all of them, and when they run.

Two jobs, since partitioned and unpartitioned assets in one run break (dagster#19357): ``acuity_sync`` (one run per
tenant partition; the daily schedule starts one per tenant) and ``acuity_build`` (dbt, then the analysts' copy), which
``build_after_syncs`` starts once every run of a batch has ended and at least one landed. Concurrency is Dagster's:
the one-writer pool, and the instance's run queue (one run per tenant at a time: ``orchestrate.instance``).
"""

from collections.abc import Iterator

import dagster as dg
from dagster_dlt import DagsterDltResource

from extract.config import Tenant
from orchestrate.build import build_assets, dbt_project, dbt_resource
from orchestrate.sync import raw_key, sync_assets
from transform import warehouse as warehouses
from transform.errors import PipelineError
from transform.run import configured_tenants

# On DuckDB every step that opens the warehouse is in this pool, whose limit is 1: one writer at a time
WRITER_POOL = "acuity_warehouse"
SYNC_JOB, BUILD_JOB = "acuity_sync", "acuity_build"
BATCH_TAG = "acuity/batch"  # the runs one schedule tick started, built once they have all ended
DAILY = "15 5 * * *"  # as README's cron line: before opening hours
_ENDED = (dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED)


def build_definitions(retry_delay: float = 60.0) -> dg.Definitions:
    """Everything for the configured tenants (``ACUITY_TENANTS_FILE``, else the single ``ACUITY_USER_ID`` account)
    and warehouse (``ACUITY_WAREHOUSE``/``ACUITY_TARGET``). ``retry_delay``: seconds before a failed sync's first
    retry (it doubles, with jitter); the tests shorten it."""
    tenants = accounts()
    target = warehouses.current()
    partitions = dg.StaticPartitionsDefinition(sorted(tenants))
    retry = dg.RetryPolicy(
        max_retries=2, delay=retry_delay, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS
    )
    # PostgreSQL takes concurrent loads: tenants load in parallel there; the build stays one at a time
    raw = sync_assets(tenants, target, partitions, retry, WRITER_POOL if target.target == "duckdb" else None)
    project = dbt_project(target)
    built = build_assets(project, target, WRITER_POOL)
    sync_job = dg.define_asset_job(SYNC_JOB, selection=dg.AssetSelection.assets(raw), partitions_def=partitions)
    build_job = dg.define_asset_job(BUILD_JOB, selection=dg.AssetSelection.assets(*built))
    return dg.Definitions(
        assets=[raw, *built],
        jobs=[sync_job, build_job],
        schedules=[daily_schedule(tenants)],
        sensors=[build_after_syncs(len(tenants))],
        resources={"dlt_resource": DagsterDltResource(), "dbt": dbt_resource(project)},
        # one step per run: the run's own process executes it, no second process per step
        executor=dg.in_process_executor,
    )


def accounts() -> dict[str, Tenant]:
    """The accounts to orchestrate, by tenant id, as ``make pipeline`` finds them (never the embedded demo)."""
    tenants = {tenant.tenant_id: tenant for tenant in configured_tenants(None)}
    if not tenants:
        raise PipelineError(
            "no accounts to orchestrate: set ACUITY_TENANTS_FILE=tenants.toml (see tenants.example.toml) or"
            " ACUITY_USER_ID and ACUITY_API_KEY"
        )
    return tenants


def daily_schedule(tenants: dict[str, Tenant]) -> dg.ScheduleDefinition:
    """One run per tenant every morning, tagged with the tick so the build waits for all of them. Off until switched
    on in the UI (Dagster's default), so opening the UI never starts a sync by surprise."""

    @dg.schedule(name="acuity_daily", job_name=SYNC_JOB, cron_schedule=DAILY)
    def acuity_daily(context: dg.ScheduleEvaluationContext) -> Iterator[dg.RunRequest]:
        batch = f"daily-{context.scheduled_execution_time:%Y-%m-%dT%H%M}"
        for tenant_id in sorted(tenants):
            yield dg.RunRequest(run_key=tenant_id, partition_key=tenant_id, tags={BATCH_TAG: batch})

    return acuity_daily


def batch_of(run: dg.DagsterRun) -> str:
    """The batch a sync run belongs to: its schedule tick, its backfill, or itself (a run launched by hand)."""
    return run.tags.get(BATCH_TAG) or run.tags.get("dagster/backfill") or run.run_id


def is_sync(run: dg.DagsterRun) -> bool:
    """A tenant's sync: a run of the sync job, or of the raw tables picked in the asset graph (Dagster's own job)."""
    return run.job_name == SYNC_JOB or raw_key("sync_runs") in (run.asset_selection or ())


def build_after_syncs(tenants: int) -> dg.SensorDefinition:
    """Builds the models once per batch of syncs, when every run of it has ended (retries included) and one landed.

    Dagster's own conditions wait for every upstream partition to succeed, so one failing account would hold the
    others' data back; ``make pipeline`` builds over the accounts that landed, and so does this. The run key is the
    batch: a batch is built once.
    """

    @dg.sensor(
        name="build_after_syncs",
        job_name=BUILD_JOB,
        minimum_interval_seconds=30,
        default_status=dg.DefaultSensorStatus.RUNNING,
    )
    def sensor(context: dg.SensorEvaluationContext) -> Iterator[dg.RunRequest]:
        batches: dict[str, list[dg.DagsterRun]] = {}
        for run in filter(is_sync, context.instance.get_runs(limit=8 * tenants)):  # newest first
            batches.setdefault(batch_of(run), []).append(run)
        for batch, members in batches.items():
            if all(run.status in _ENDED for run in members):
                if batch != context.cursor and any(run.status == dg.DagsterRunStatus.SUCCESS for run in members):
                    context.update_cursor(batch)  # the last batch built: asked for once, not at every tick
                    yield dg.RunRequest(run_key=batch, tags={BATCH_TAG: batch})
                return  # the newest ended batch; an older one's data is in this build too

    return sensor


@dg.definitions
def defs() -> dg.Definitions:
    """What ``dagster dev -m orchestrate.definitions`` loads, built when loaded, not when imported."""
    return build_definitions()
