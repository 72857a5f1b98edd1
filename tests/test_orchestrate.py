"""Dagster orchestration (orchestrate/, the `orchestrate` extra): tenants as partitions of dagster-dlt assets, the dbt
project as dagster-dbt assets built once after them, the analysts' copy published last. Real HTTP against the sandbox,
a real DuckDB file, a real Dagster instance; two partitions at once run as two `dagster` processes."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import dagster as dg
import duckdb
import psycopg2
import pytest
from helpers import API_KEY, AS_OF, assert_same_marts, isolate

from extract.config import BY_KEY, DEFAULT_BACKFILL_DAYS, settings_from_env
from orchestrate.build import dbt_project
from orchestrate.definitions import BATCH_TAG, BUILD_JOB, SYNC_JOB, build_definitions
from orchestrate.instance import INSTANCE_YAML, instance_home
from sandbox import Fault, SandboxServer, build_account
from transform import warehouse as warehouses
from transform.paths import analyst_path, state_dir
from transform.run import run

TENANTS = ("broken", "north", "south")  # broken's server answers 500 to everything
BIN = Path(sys.executable).parent
SELECT = ("--select", "group:acuity")  # one tenant's raw tables: its sync


def write_tenants(path: Path, servers: dict[str, SandboxServer], users: dict[str, str]) -> Path:
    path.write_text(
        "".join(f'[tenants.{t}]\nuser_id = "{users[t]}"\nbase_url = "{servers[t].base_url}"\n' for t in users)
    )
    return path


def query(path: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as connection:
        return connection.execute(sql).fetchall()


@dataclass
class Orchestrated:
    """One day under Dagster, in process: each tenant's partition, the sensor's build, then the same accounts synced
    by ``python -m transform --tenants`` into a second warehouse."""

    root: Path
    defs: dg.Definitions
    syncs: dict[str, dg.ExecuteInProcessResult]
    build_requests: list[dg.RunRequest]
    build: dg.ExecuteInProcessResult
    broken_requests: int

    @property
    def warehouse(self) -> Path:
        return self.root / "acuity.duckdb"

    @property
    def reference(self) -> Path:
        return self.root / "reference" / "acuity.duckdb"


@pytest.fixture(scope="module")
def dbt_target(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """dbt's folder, shared by this file's warehouses (ACUITY_DBT_TARGET_PATH): the project is parsed once, here, as
    `make orchestrate` parses it before Dagster's processes start."""
    folder = tmp_path_factory.mktemp("dbt")
    with pytest.MonkeyPatch.context() as monkeypatch:
        isolate(tmp_path_factory.mktemp("parse"), monkeypatch)
        monkeypatch.setenv("ACUITY_DBT_TARGET_PATH", str(folder))
        dbt_project(warehouses.current(), parse=True)
    return folder


@pytest.fixture(scope="module")
def orchestrated(tmp_path_factory: pytest.TempPathFactory, dbt_target: Path) -> Iterator[Orchestrated]:
    root = tmp_path_factory.mktemp("orchestrated")
    north, south = build_account("seed", 42, AS_OF), build_account("seed", 7, AS_OF)
    with (
        pytest.MonkeyPatch.context() as monkeypatch,
        SandboxServer({"1": (API_KEY, north), "2": ("key-s", south)}) as server,
        SandboxServer({"3": ("key-b", north)}) as failing,
    ):
        isolate(root, monkeypatch)
        failing.inject(Fault(status=500, times=1_000_000))
        servers = {"north": server, "south": server, "broken": failing}
        tenants = write_tenants(root / "tenants.toml", servers, {"north": "1", "south": "2", "broken": "3"})
        for tenant, key in {"NORTH": API_KEY, "SOUTH": "key-s", "BROKEN": "key-b"}.items():
            monkeypatch.setenv(f"ACUITY_API_KEY_{tenant}", key)
        monkeypatch.setenv("ACUITY_TENANTS_FILE", str(tenants))
        monkeypatch.setenv("ACUITY_AS_OF", AS_OF.isoformat())
        monkeypatch.setenv("ACUITY_DBT_TARGET_PATH", str(dbt_target))
        defs = build_definitions(retry_delay=0)
        (root / "dagster").mkdir()
        with dg.instance_for_test(temp_dir=str(root / "dagster")) as instance:
            syncs = {
                tenant: defs.resolve_job_def(SYNC_JOB).execute_in_process(
                    partition_key=tenant, instance=instance, raise_on_error=False, tags={BATCH_TAG: "day-1"}
                )
                for tenant in TENANTS
            }
            context = dg.build_sensor_context(instance=instance, definitions=defs)
            requests = list(defs.resolve_sensor_def("build_after_syncs")(context))
            build = defs.resolve_job_def(BUILD_JOB).execute_in_process(
                instance=instance, tags=requests[0].tags if requests else {}, raise_on_error=False
            )
            # the next day's sync of north, after the build (the marts keep day 1)
            defs.resolve_job_def(SYNC_JOB).execute_in_process(partition_key="north", instance=instance)
        broken_requests = len(failing.request_log)
        monkeypatch.setenv("ACUITY_WAREHOUSE", str(root / "reference" / "acuity.duckdb"))
        run(settings_from_env(), tenants_file=str(tenants), log=lambda line: None)
    yield Orchestrated(root, defs, syncs, requests, build, broken_requests)


def test_the_definitions_load_one_partition_per_tenant_and_the_marts_lineage_from_the_raw_tables(
    orchestrated: Orchestrated,
) -> None:
    defs = orchestrated.defs
    dg.Definitions.validate_loadable(defs)  # as Dagster's UI and daemon load them
    assert defs.resolve_job_def(SYNC_JOB).partitions_def.get_partition_keys() == sorted(TENANTS)
    graph = defs.resolve_asset_graph()
    raw = {dg.AssetKey(["acuity", table]) for table in ("clients", "appointments", "orders", "sync_runs")}
    assert raw <= graph.get_ancestor_asset_keys(dg.AssetKey(["marts", "contacts"]))
    for key in raw:  # dbt's sources are the tenants' partitions, not tables nothing here materializes
        node = graph.get(key)
        assert node.is_materializable and node.partitions_def.get_partition_keys() == sorted(TENANTS), key
    published = graph.get_ancestor_asset_keys(dg.AssetKey("analyst_copy"))
    assert {dg.AssetKey(["marts", mart]) for mart in ("contacts", "future_appointments", "sync_metrics")} <= published
    assert defs.resolve_schedule_def("acuity_daily").cron_schedule == "15 5 * * *"


def test_partitions_and_dbt_assets_build_the_marts_python_m_transform_builds(orchestrated: Orchestrated) -> None:
    assert orchestrated.syncs["north"].success and orchestrated.syncs["south"].success
    assert orchestrated.build.success
    assert_same_marts(orchestrated.warehouse, orchestrated.reference)
    assert_same_marts(analyst_path(orchestrated.warehouse), orchestrated.warehouse)


def test_a_tenant_whose_server_fails_is_retried_then_failed_while_the_others_are_published(
    orchestrated: Orchestrated,
) -> None:
    broken = orchestrated.syncs["broken"]
    assert not broken.success
    events = [event.event_type_value for event in broken.all_events]
    assert events.count("STEP_UP_FOR_RETRY") == 2 and events.count("STEP_FAILURE") == 1
    failure = next(event for event in broken.all_events if event.event_type_value == "STEP_FAILURE")
    said = failure.step_failure_data.user_failure_data.description  # the sync's one line, as the UI shows it
    assert said.startswith("tenant broken: GET /me at ") and "HTTP 500" in said and "\n" not in said
    # three attempts, each retried by the client 5 times (dlt's default RUNTIME__REQUEST_MAX_ATTEMPTS)
    assert orchestrated.broken_requests == 3 * 5
    assert [request.run_key for request in orchestrated.build_requests] == ["day-1"], "one build for the day's batch"
    published = analyst_path(orchestrated.warehouse)
    assert query(published, "select tenant_id from marts.sync_metrics order by 1") == [("north",), ("south",)]
    assert query(orchestrated.warehouse, "select status, count(*) from raw_acuity.sync_runs where tenant_id ="
                 " 'broken' group by 1") == [("failed", 3)]  # fmt: skip


def test_the_next_sync_reads_the_live_window_from_the_state_dlt_restores_after_dagster_dlt_drops_it(
    orchestrated: Orchestrated,
) -> None:
    """dagster-dlt drops the tenant's dlt folder before each load: the backfill marker and the reconcile rotation
    must come back from the warehouse, or every day would backfill two years again."""
    rows = query(orchestrated.warehouse, "select window_first, reconcile_status from raw_acuity.sync_runs"
                 " where tenant_id = 'north' order by started_at")  # fmt: skip
    backfill = AS_OF - timedelta(days=DEFAULT_BACKFILL_DAYS)
    live = AS_OF - timedelta(days=BY_KEY["lookback_days"].default)
    assert rows == [(backfill, None), (live, "done")], "day 1 backfilled; day 2 read its live window and a slice"


def test_the_api_key_appears_nowhere_dagster_keeps_anything(orchestrated: Orchestrated, dbt_target: Path) -> None:
    """Run storage, event log, compute logs, dagster-dbt's artifacts: none holds north's key (docs/reliability.md)."""
    kept = [path for root in (orchestrated.root / "dagster", dbt_target) for path in root.rglob("*") if path.is_file()]
    assert any(path.suffix == ".db" for path in kept), "the instance's storage was searched"
    assert [path for path in kept if API_KEY.encode() in path.read_bytes()] == []


def test_two_partitions_run_at_once_never_corrupt_the_warehouse(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, dbt_target: Path
) -> None:
    """Two `dagster` processes, one per tenant: the second starts while the first is inside its sync (held at
    /me by its server). The one-writer pool holds the second's step back until the first's has ended: neither fails
    nor retries, and both tenants land whole."""
    isolate(tmp_path, monkeypatch)
    north, south = build_account("seed", 42, AS_OF), build_account("seed", 7, AS_OF)
    inside, release = threading.Event(), threading.Event()

    def hold(body: object) -> object:
        inside.set()
        release.wait(120)
        return body

    with SandboxServer({"1": ("key-n", north)}) as first, SandboxServer({"2": ("key-s", south)}) as second:
        first.inject(Fault(status=200, times=1, path="/me", mangle=hold))
        tenants = write_tenants(
            tmp_path / "tenants.toml", {"north": first, "south": second}, {"north": "1", "south": "2"}
        )
        env = {
            **os.environ,
            "ACUITY_TENANTS_FILE": str(tenants),
            "ACUITY_API_KEY_NORTH": "key-n",
            "ACUITY_API_KEY_SOUTH": "key-s",
            "ACUITY_AS_OF": AS_OF.isoformat(),
            "ACUITY_DBT_TARGET_PATH": str(dbt_target),
            "DAGSTER_HOME": str(instance_home(state_dir(tmp_path / "acuity.duckdb"))),
        }
        with dg.DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:  # created once, before two users
            first_run = materialize("north", env)
            assert inside.wait(120), "the first sync never reached /me"
            second_run = materialize("south", env)
            waiting = wait_for_run(instance, "south")
            release.set()
            outputs = [process.communicate(timeout=300)[0] for process in (first_run, second_run)]
            assert [first_run.returncode, second_run.returncode] == [0, 0], outputs
            steps = {tenant: step_events(instance, tenant) for tenant in ("north", "south")}

    assert waiting, "the second run had started while the first was inside its sync"
    for tenant, events in steps.items():
        assert [kind for kind, _ in events] == ["STEP_START", "STEP_SUCCESS"], (tenant, events)
    assert steps["south"][0][1] >= steps["north"][1][1], "the second sync wrote only after the first had finished"
    warehouse = tmp_path / "acuity.duckdb"
    for tenant, account in {"north": north, "south": south}.items():
        current = f"from raw_acuity.clients where tenant_id = '{tenant}' and _dlt_valid_to is null"
        assert query(warehouse, f"select count(*) {current}") == [(account.ground_truth()["clients"],)]
        assert query(warehouse, f"select status from raw_acuity.sync_runs where tenant_id = '{tenant}'") == [
            ("success",)
        ]


@pytest.mark.postgres
def test_two_partitions_load_at_once_into_postgresql_and_neither_loses_rows_to_the_other(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, dbt_target: Path, postgres_url: str
) -> None:
    """On PostgreSQL the syncs are in no pool. Both tenants' /orders (their last request) are answered only once both
    have asked, so their loads run together; each merges through its own staging schema, so neither loses rows.
    North syncs alone first: tenants' first loads at once into an empty warehouse race to create its tables, and
    the loser's retry lands it (docs/orchestration.md); that is not what this test is about."""
    isolate(tmp_path, monkeypatch)
    accounts = {"north": build_account("seed", 42, AS_OF), "south": build_account("seed", 7, AS_OF)}
    both = threading.Barrier(2, timeout=120)

    def together(body: object) -> object:
        both.wait()
        return body

    with (
        fresh_database(postgres_url, "orchestrate_parallel") as url,
        SandboxServer({"1": ("key-n", accounts["north"]), "2": ("key-s", accounts["south"])}) as server,
    ):
        tenants = write_tenants(
            tmp_path / "tenants.toml", {"north": server, "south": server}, {"north": "1", "south": "2"}
        )
        home = tmp_path / "dagster"
        home.mkdir()
        (home / "dagster.yaml").write_text(INSTANCE_YAML)
        env = {
            **os.environ,
            "ACUITY_TENANTS_FILE": str(tenants),
            "ACUITY_API_KEY_NORTH": "key-n",
            "ACUITY_API_KEY_SOUTH": "key-s",
            "ACUITY_AS_OF": AS_OF.isoformat(),
            "ACUITY_DBT_TARGET_PATH": str(dbt_target),
            "ACUITY_TARGET": "postgres",
            "ACUITY_POSTGRES_URL": url,
            "DAGSTER_HOME": str(home),
        }
        with dg.DagsterInstance.from_config(str(home)) as instance:
            first = materialize("north", env)
            assert first.wait(timeout=300) == 0, first.communicate()[0]
            server.inject(Fault(status=200, times=2, path="/orders", mangle=together))
            runs = [materialize(tenant, env) for tenant in accounts]
            outputs = [process.communicate(timeout=300)[0] for process in runs]
            assert [process.returncode for process in runs] == [0, 0], outputs
            steps = {tenant: step_events(instance, tenant) for tenant in accounts}
        for tenant, events in steps.items():
            assert [kind for kind, _ in events] == ["STEP_START", "STEP_SUCCESS"], (tenant, events)
        for tenant, account in accounts.items():
            truth = account.ground_truth()
            own_load = f"(select load_id from raw_acuity.sync_runs where tenant_id = '{tenant}')"
            for table in ("clients", "appointments"):
                current = f"from raw_acuity.{table} where tenant_id = '{tenant}' and _dlt_valid_to is null"
                # every row, and no other: a row merged by the other tenant's load would carry its load id, and
                # the run metrics (fetched = loaded + set aside) would no longer add up
                assert pg_query(
                    url, f"select count(*), count(*) filter (where _dlt_load_id in {own_load}) {current}"
                ) == [(truth[table], truth[table])], (tenant, table)
        # what keeps it so whatever the timing: dlt empties a staging table as a load begins
        staging = "select schema_name from information_schema.schemata where schema_name like 'raw_acuity_staging%'"
        assert sorted(pg_query(url, staging)) == [("raw_acuity_staging_north",), ("raw_acuity_staging_south",)]
    (north_started, north_ended), (south_started, south_ended) = ((s[0][1], s[-1][1]) for s in steps.values())
    assert north_started < south_ended and south_started < north_ended, "the two syncs ran at the same time"


@contextlib.contextmanager
def fresh_database(server: str, name: str) -> Iterator[str]:
    """A database of its own on the test cluster: this test's tenants meet no other test's."""
    admin = psycopg2.connect(server)
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f"drop database if exists {name} with (force)")
        cursor.execute(f"create database {name}")
    try:
        yield server.rsplit("/", 1)[0] + f"/{name}"
    finally:
        admin.close()


def pg_query(url: str, sql: str) -> list[tuple]:
    with psycopg2.connect(url) as connection, connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchall()


def materialize(tenant: str, env: dict[str, str]) -> subprocess.Popen:
    """One tenant's partition, as a `dagster` process of its own (what a run launched from the UI is)."""
    return subprocess.Popen(
        [str(BIN / "dagster"), "asset", "materialize", "-m", "orchestrate.definitions", *SELECT, "--partition", tenant],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wait_for_run(instance: dg.DagsterInstance, tenant: str, timeout: float = 120) -> bool:
    """Until the tenant's run has reached its step: started it, or been told to wait for a slot of its pool."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for record in instance.get_runs(filters=dg.RunsFilter(tags={"dagster/partition": tenant})):
            if any(event.step_key == "sync_tenant" for event in instance.all_logs(record.run_id)):
                return True
        time.sleep(0.2)
    return False


def step_events(instance: dg.DagsterInstance, tenant: str) -> list[tuple[str, float]]:
    """The step's events of the tenant's latest run, with their times."""
    record = instance.get_runs(filters=dg.RunsFilter(tags={"dagster/partition": tenant}), limit=1)[0]
    return [
        (event.dagster_event.event_type_value, event.timestamp)
        for event in instance.all_logs(record.run_id)
        if event.dagster_event
        and event.dagster_event.event_type_value.startswith("STEP_")
        and event.dagster_event.event_type_value not in ("STEP_OUTPUT", "STEP_WORKER_STARTED", "STEP_WORKER_STARTING")
    ]
