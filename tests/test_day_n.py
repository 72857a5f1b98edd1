"""Day N: the states a deployment reaches after its first day — a crash during a later run, another account under
the same tenant, the demo before the real account, two warehouses at once, an analyst's dead session — each ends
with a correct warehouse and a published copy equal to a clean run's. Real processes, real HTTP, real DuckDB files."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import dlt
import duckdb
import pytest
from helpers import (
    API_KEY,
    AS_OF,
    USER_ID,
    Env,
    assert_marts_equal_ground_truth,
    assert_same_marts,
    kill_when,
    killed_publishing,
    loading_package,
    pipeline_env,
    pipeline_process,
    run_pipeline,
)

from sandbox import SandboxServer, build_account
from transform.errors import PipelineError
from transform.paths import analyst_path, pipelines_dir, state_dir

OTHER_USER_ID = "20002"


def day_n_env(server: SandboxServer, warehouse: Path, user_id: str = USER_ID) -> dict[str, str]:
    """An operator's shell, with small pages so a run makes several requests (more moments to be killed at)."""
    return pipeline_env(server, warehouse, user_id, ACUITY_PAGE_SIZE="200")


def query(path: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as connection:
        return connection.execute(sql).fetchall()


@pytest.mark.slow
@pytest.mark.parametrize("stage", ["load", "publish"])
def test_a_later_run_killed_then_rerun_equals_a_clean_run(tmp_path: Path, stage: str) -> None:
    """Issue 12 case 1: the killed run is the second one, on a warehouse with history."""
    account = build_account("seed", 42, AS_OF)
    history, clean = tmp_path / "history" / "acuity.duckdb", tmp_path / "clean" / "acuity.duckdb"
    as_of = ("--as-of", AS_OF.isoformat())
    with SandboxServer({USER_ID: (API_KEY, account)}, rate_limit=False) as server:
        run_pipeline(day_n_env(server, history), *as_of)
        account.mutate_all(rng_seed=3)
        if stage == "load":
            victim = pipeline_process(day_n_env(server, history), *as_of)
            kill_when(victim, loading_package(history), "the load of the second run")
        else:
            killed_publishing(history, day_n_env(server, history), *as_of)

        rerun = run_pipeline(day_n_env(server, history), *as_of)
        run_pipeline(day_n_env(server, clean), *as_of)

    assert ("interrupted run" in rerun) == (stage == "load"), rerun
    assert_same_marts(history, clean)
    assert_same_marts(analyst_path(history), history)
    fetched = query(history, "select fetched_appointments from raw_acuity.sync_runs where status = 'success'")
    # a run killed while publishing had recorded its (complete) run row; one killed while loading had not
    assert len(fetched) == (2 if stage == "load" else 3) and all(n > 0 for (n,) in fetched), fetched
    assert not list(history.parent.glob(".analyst.duckdb.*.tmp")), "a killed publish's temp copy is cleaned"


@pytest.mark.slow
def test_a_pending_load_that_cannot_load_is_aborted_and_the_rerun_equals_a_clean_run(tmp_path: Path) -> None:
    """A full disk leaves a package whose files are cut short: the next run abandons it (rolling dlt's state back)
    and re-reads its window, instead of retrying it forever."""
    account = build_account("seed", 42, AS_OF)
    history, clean = tmp_path / "history" / "acuity.duckdb", tmp_path / "clean" / "acuity.duckdb"
    as_of = ("--as-of", AS_OF.isoformat())
    with SandboxServer({USER_ID: (API_KEY, account)}, rate_limit=False) as server:
        run_pipeline(day_n_env(server, history), *as_of)
        account.mutate_all(rng_seed=5)
        victim = pipeline_process(day_n_env(server, history), *as_of)
        kill_when(victim, loading_package(history), "the load of the second run")
        package = pipelines_dir(history) / "acuity_default" / "load" / "normalized"
        damaged = [f for f in package.rglob("*.parquet") if "appointments" in f.name]
        assert damaged, "the killed run left appointment files to load"
        for path in damaged:
            path.write_bytes(path.read_bytes()[:40])

        rerun = run_pipeline(day_n_env(server, history), *as_of)
        run_pipeline(day_n_env(server, clean), *as_of)

    assert "abandoned the load an interrupted run left pending" in rerun
    assert_same_marts(history, clean)


def test_another_account_under_the_same_tenant_is_refused_before_anything_loads(env: Env) -> None:
    """Issue 12 case 3 (switching credentials): one line naming both accounts and the way out; nothing touched."""
    assert env.sync().failures == []
    tables = ("appointments", "clients", "orders", "sync_runs", "account")
    counts = {t: env.scalar(f"select count(*) from raw_acuity.{t}") for t in tables}
    published = analyst_path(env.warehouse).read_bytes()
    other = build_account("seed", 7, AS_OF)
    with SandboxServer({OTHER_USER_ID: (API_KEY, other)}) as server:
        env.monkeypatch.setenv("ACUITY_BASE_URL", server.base_url)
        env.monkeypatch.setenv("ACUITY_USER_ID", OTHER_USER_ID)
        report = env.sync()

    assert len(report.failures) == 1
    line = report.failures[0]
    assert f"account {USER_ID}" in line and f"account {OTHER_USER_ID}" in line and "ACUITY_TENANT_ID" in line
    assert "\n" not in line and API_KEY not in line
    assert {t: env.scalar(f"select count(*) from raw_acuity.{t}") for t in tables} == counts
    assert analyst_path(env.warehouse).read_bytes() == published


def test_a_warehouse_older_than_the_account_record_is_checked_against_its_raw_account_table(env: Env) -> None:
    """Warehouses written before the tenant's state named its account (extract/pipeline.py::recorded_state): the
    check falls back to the account the raw ``account`` table holds. Another account is refused as above; the
    tenant's own account syncs, and from then on the state names it."""
    from dlt.pipeline.helpers import pipeline_drop

    from extract.pipeline import make_pipeline
    from extract.source import SourceState
    from transform import warehouse as warehouses

    def tenant_pipeline() -> dlt.Pipeline:
        target = warehouses.current()
        return make_pipeline("default", target.destination(), target.pipelines_dir)

    def recorded_account() -> str | None:
        pipeline = tenant_pipeline()
        pipeline.sync_destination()
        return SourceState.of(pipeline.state.get("sources", {})).account_id

    assert env.sync().failures == []
    assert recorded_account() == USER_ID
    # what `dlt pipeline acuity_default drop --state-paths account --state-only` does: the state, in the warehouse
    # too, as an older version of the pipeline left it
    pipeline_drop(tenant_pipeline(), state_paths="account", state_only=True)()
    assert recorded_account() is None
    counts = env.scalar("select count(*) from raw_acuity.sync_runs")
    published = analyst_path(env.warehouse).read_bytes()
    other = build_account("seed", 7, AS_OF)
    with SandboxServer({OTHER_USER_ID: (API_KEY, other)}) as server:
        env.monkeypatch.setenv("ACUITY_BASE_URL", server.base_url)
        env.monkeypatch.setenv("ACUITY_USER_ID", OTHER_USER_ID)
        refused = env.sync()
    env.monkeypatch.setenv("ACUITY_BASE_URL", env.server.base_url)
    env.monkeypatch.setenv("ACUITY_USER_ID", USER_ID)

    assert len(refused.failures) == 1
    line = refused.failures[0]
    assert f"holds Acuity account {USER_ID}" in line and f"reach account {OTHER_USER_ID}" in line, line
    assert "None" not in line and "\n" not in line
    assert env.scalar("select count(*) from raw_acuity.sync_runs") == counts, "nothing loaded, not even a run row"
    assert analyst_path(env.warehouse).read_bytes() == published

    assert env.sync().failures == []
    assert recorded_account() == USER_ID
    env.assert_marts_equal_ground_truth()


def test_the_demo_never_mixes_into_the_real_account_and_the_real_one_backfills(tmp_path: Path) -> None:
    """Issue 12 case 3: the README's order — `make pipeline` without credentials, then with them."""
    warehouse = tmp_path / "warehouse" / "acuity.duckdb"
    demo_env = {k: v for k, v in os.environ.items() if not k.startswith("ACUITY_")}
    demo_env["ACUITY_WAREHOUSE"] = str(warehouse)
    demo_output = run_pipeline(demo_env, "--as-of", AS_OF.isoformat())
    demo = warehouse.parent / "demo" / "acuity.duckdb"
    assert "embedded demo" in demo_output and str(demo) in demo_output
    assert not warehouse.exists()

    account = build_account("seed", 7, AS_OF)
    with SandboxServer({OTHER_USER_ID: (API_KEY, account)}, rate_limit=False) as server:
        run_pipeline(day_n_env(server, warehouse, OTHER_USER_ID), "--as-of", AS_OF.isoformat(), "--since", "2024-01-01")

    assert query(warehouse, "select distinct tenant_id from raw_acuity.appointments") == [("default",)]
    assert query(warehouse, "select window_first from raw_acuity.sync_runs") == [(AS_OF.replace(2024, 1, 1),)]
    assert_marts_equal_ground_truth(lambda sql: query(warehouse, sql), account)
    assert query(demo, "select distinct tenant_id from raw_acuity.appointments") == [("demo",)]
    shutil.rmtree(demo.parent)  # the README's way to drop the demo; the real warehouse is untouched
    assert_marts_equal_ground_truth(lambda sql: query(analyst_path(warehouse), sql), account)


@pytest.mark.slow
def test_two_pipelines_on_two_warehouses_run_together(tmp_path: Path) -> None:
    """Issue 12 case 4: nothing of one warehouse's state (dlt's folder, dbt's target, lock, temp files) is shared."""
    account = build_account("seed", 42, AS_OF)
    warehouses = [tmp_path / name / "acuity.duckdb" for name in ("prod", "staging")]
    with SandboxServer({USER_ID: (API_KEY, account)}, rate_limit=False) as server:
        for _ in range(2):  # a first and a second (daily) run of both, side by side
            runs = [pipeline_process(day_n_env(server, w), "--as-of", AS_OF.isoformat()) for w in warehouses]
            outputs = [run.communicate(timeout=300)[0] for run in runs]
            assert [run.returncode for run in runs] == [0, 0], outputs
    for warehouse in warehouses:
        assert_marts_equal_ground_truth(lambda sql, w=warehouse: query(analyst_path(w), sql), account)
        assert (state_dir(warehouse) / "dlt").is_dir() and (state_dir(warehouse) / "dbt").is_dir()


@pytest.mark.slow
def test_an_analysts_dead_read_write_session_never_changes_a_new_publish(env: Env) -> None:
    """Issue 12 cases 5 and 6: a stale WAL and a killed publish's temp copy are gone after the next publish."""
    assert env.sync().failures == []
    published = analyst_path(env.warehouse)
    assert not stat.S_IMODE(published.stat().st_mode) & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    # an analyst opens the copy read-write (as root, permissions don't stop it), deletes rows and dies un-checkpointed
    session = subprocess.run(
        [
            sys.executable,
            "-c",
            "import duckdb, os\n"
            f"c = duckdb.connect({str(published)!r})\n"
            "c.execute(\"set wal_autocheckpoint = '1TB'\")\n"
            "c.execute('delete from marts.future_appointments where appointment_id % 10 <> 0')\n"
            "os._exit(0)\n",
        ],
        capture_output=True,
        text=True,
    )
    assert session.returncode == 0, session.stderr
    assert published.with_name("analyst.duckdb.wal").exists()
    leftover = published.with_name(f".{published.name}.4242.tmp")
    leftover.write_bytes(b"\0" * 1024)

    assert env.sync().failures == []

    assert not published.with_name("analyst.duckdb.wal").exists() and not leftover.exists()
    count = "select count(*) from marts.future_appointments"
    assert query(published, count) == query(env.warehouse, count) == [(100,)]


def test_a_damaged_warehouse_file_fails_in_one_line_naming_the_fix(env: Env) -> None:
    """Without advice to delete anything: a file that is not DuckDB is named as such (tests/test_operator.py has the
    directory, the lock held by another program, and a DuckDB file DuckDB cannot read)."""
    env.warehouse.write_bytes(b"not a duckdb file" * 100)

    with pytest.raises(PipelineError) as failure:
        env.sync()

    message = str(failure.value)
    assert str(env.warehouse) in message and "not a DuckDB database" in message and "\n" not in message
    assert "delete" not in message
    assert env.server.request_log == [], "nothing was fetched"
