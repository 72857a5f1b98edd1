"""The soak test: three weeks of daily runs on one warehouse, as an operator's cron would make them, with the account
changing between runs, kill -9 at each stage of several runs, one run with another window setting, and the demo run
before the first real one. At the end the marts equal those of one clean run at the final as-of, and no run after a
recovered one failed. Seeded: the same schedule and the same mutations every time."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from helpers import (
    API_KEY,
    AS_OF,
    USER_ID,
    assert_same_marts,
    child_has_open,
    kill_when,
    killed_publishing,
    loading_package,
    pipeline_process,
    request_arrives,
    run_pipeline,
)
from test_day_n import day_n_env, query

from sandbox import Fault, SandboxServer, build_account
from transform.paths import analyst_path, pipelines_dir

pytestmark = [pytest.mark.soak, pytest.mark.slow]

DAYS = 21
SINCE = "2025-06-01"
# the day a run is killed, and the moment
KILLS = {3: "extract", 6: "normalize", 9: "load", 12: "dbt", 15: "publish", 18: "load"}
CHANGED_SETTING = {10: {"ACUITY_HORIZON_DAYS": "30"}, 11: {"ACUITY_LOOKBACK_DAYS": "0"}}


def test_three_weeks_of_daily_runs_with_crashes_equal_one_clean_run(tmp_path: Path) -> None:
    start = AS_OF - timedelta(days=DAYS)
    account = build_account("seed", 42, start)
    warehouse = tmp_path / "warehouse" / "acuity.duckdb"
    with SandboxServer({USER_ID: (API_KEY, account)}, rate_limit=False) as server:
        demo_env = {
            k: v for k, v in day_n_env(server, warehouse).items() if k not in ("ACUITY_USER_ID", "ACUITY_API_KEY")
        }
        run_pipeline(demo_env, "--as-of", start.isoformat())  # trying the demo first, as the README suggests

        for day in range(DAYS):
            as_of = ("--as-of", (start + timedelta(days=day)).isoformat(), "--since", SINCE)
            env = {**day_n_env(server, warehouse), **CHANGED_SETTING.get(day, {})}
            if day in KILLS:
                _kill_a_run(server, warehouse, env, as_of, KILLS[day])
            run_pipeline(env, *as_of)  # the run after a crash: must succeed
            account.mutate_all(rng_seed=day)  # a day of reschedules, cancels, deletes, bookings, payments
            account.advance(days=1)

        final = ("--as-of", (start + timedelta(days=DAYS)).isoformat(), "--since", SINCE)
        run_pipeline(day_n_env(server, warehouse), *final)
        clean = tmp_path / "clean" / "acuity.duckdb"
        run_pipeline(day_n_env(server, clean), *final)

    assert_same_marts(warehouse, clean)
    assert_same_marts(analyst_path(warehouse), warehouse)
    runs = query(warehouse, "select status, fetched_appointments, stage from raw_acuity.sync_runs")
    done = [n for status, n, _ in runs if status == "success"]
    assert len(done) >= DAYS + 1 and all(n > 0 for n in done), runs
    # the killed runs are on record, as interrupted, by the run after each (a kill before a run began leaves none)
    stopped = [(status, stage) for status, _, stage in runs if status != "success"]
    assert {status for status, _ in stopped} == {"interrupted"}, stopped
    assert sorted(stage for _, stage in stopped if stage in ("dbt", "publish")) == ["dbt", "publish"], stopped
    assert query(warehouse, "select distinct tenant_id from raw_acuity.appointments") == [("default",)]
    assert not list(warehouse.parent.glob(".analyst.duckdb.*.tmp"))


def _kill_a_run(server: SandboxServer, warehouse: Path, env: dict[str, str], args: tuple[str, ...], stage: str) -> None:
    """Start the day's run and SIGKILL it (and dbt's child) at ``stage``."""
    if stage == "publish":
        killed_publishing(warehouse, env, *args)
        return
    if stage == "extract":
        server.inject(Fault(status=200, times=1, delay=30, path="/orders"))
        orders_requested = request_arrives(server, "/orders")
    victim = pipeline_process(env, *args)
    if stage == "extract":
        kill_when(victim, orders_requested, "the orders request")
    elif stage == "normalize":
        extracted = pipelines_dir(warehouse) / "acuity_default" / "normalize" / "extracted"
        kill_when(victim, lambda: extracted.exists() and any(extracted.iterdir()), "an extracted package")
    elif stage == "load":
        kill_when(victim, loading_package(warehouse), "a normalized package")
    else:
        kill_when(victim, child_has_open(victim, warehouse), "dbt's build")
