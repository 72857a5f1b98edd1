"""Complete history: Acuity has no "modified since", so each daily run also re-reads one slice of the history older
than its live window, in rotation. An edit, a cancellation and a deletion of old appointments reach the marts within
the configured cycle, each run within its request budget, and a slice retires nothing outside its dates."""

from __future__ import annotations

import itertools
from datetime import timedelta
from pathlib import Path

import duckdb
from helpers import API_KEY, AS_OF, USER_ID, Env, kill_when, loading_package, pipeline_process, run_pipeline
from test_day_n import pipeline_env, query
from test_tenants_and_postgres import write_tenants

from extract.config import settings_from_env
from sandbox import Fault, SandboxServer, build_account
from transform.run import run
from transform.summary import format_summary, read_summaries

CYCLE = 4  # runs to re-read all history (ACUITY_RECONCILE_RUNS); the default is 30 daily runs
BUDGET = 4  # requests a run may spend on its slice (ACUITY_RECONCILE_BUDGET, the default)


def test_old_edits_cancellations_and_deletions_are_reconciled_within_the_cycle(env: Env) -> None:
    env.monkeypatch.setenv("ACUITY_RECONCILE_RUNS", str(CYCLE))
    env.monkeypatch.setenv("ACUITY_RECONCILE_BUDGET", str(BUDGET))
    env.monkeypatch.setenv("ACUITY_SINCE", (AS_OF - timedelta(days=600)).isoformat())
    assert env.sync().failures == []  # the backfill
    edited = env.account.edit_days_old(200, notes="moved to the big room")
    canceled = env.account.cancel_days_old(300)
    deleted = env.account.delete_days_old(400)
    untouched = env.scalar("select count(*) from raw_acuity.appointments")

    for day in range(1, CYCLE + 1):
        env.account.advance(days=1)
        assert env.sync(as_of=(AS_OF + timedelta(days=day)).isoformat()).failures == []

    runs = env.query(
        """select reconcile_first, reconcile_last, reconcile_status, reconcile_requests, reconcile_changed,
                  reconcile_retired, window_first
           from raw_acuity.sync_runs order by started_at"""
    )[1:]
    assert all(status == "done" and 1 <= requests <= BUDGET for _, _, status, requests, *_ in runs), runs
    # the slices tile history without gaps, each ending before its run's live window
    assert all(last < window_first for _, last, *_, window_first in runs)
    assert all(later[0] == earlier[1] + timedelta(days=1) for earlier, later in itertools.pairwise(runs))
    assert sum(changed for *_, changed, _, _ in runs) == 2 and sum(retired for *_, retired, _ in runs) == 1

    def current(appointment_id: int) -> tuple:
        return env.query(
            f"""select is_canceled, is_removed from staging.stg_acuity__appointments
                where appointment_id = {appointment_id}"""
        )[0]

    notes = f"select notes from raw_acuity.appointments where id = {edited} and _dlt_valid_to is null"
    assert env.query(notes) == [("moved to the big room",)]
    assert current(canceled)[0] is True and current(deleted)[1] is True
    # three new versions (edit, cancel) or retirements (delete) plus what the live windows changed, nothing else
    assert env.scalar("select count(*) from raw_acuity.appointments") >= untouched + 2
    latest = env.query("select reconcile_first, reconcile_changed from marts.sync_metrics")
    assert latest[0][0] == runs[-1][0]
    with duckdb.connect(str(env.warehouse), read_only=True) as connection:
        (summary,) = read_summaries(connection)
    line = next(line for line in format_summary(summary).splitlines() if "older history" in line)
    first, last, _, requests, changed, retired, _ = runs[-1]
    added = env.scalar("select reconcile_added from marts.sync_metrics")
    assert line == (
        f"  older history reconciled: {first:%Y-%m-%d} … {last:%Y-%m-%d} — {changed} changed,"
        f" {added} added, {retired} retired ({requests} requests)"
    )


def test_a_killed_run_does_not_skip_its_slice(tmp_path: Path) -> None:
    """The rotation position is committed with the load: a run killed before its load leaves its slice to the next
    run; one killed during its load has its slice loaded when the next run finishes that load."""
    account = build_account("seed", 42, AS_OF)
    warehouse = tmp_path / "acuity.duckdb"
    with SandboxServer({USER_ID: (API_KEY, account)}, rate_limit=False) as server:
        since = (AS_OF - timedelta(days=600)).isoformat()
        env = {**pipeline_env(server, warehouse), "ACUITY_RECONCILE_RUNS": str(CYCLE), "ACUITY_SINCE": since}
        day = [("--as-of", (AS_OF + timedelta(days=n)).isoformat()) for n in range(4)]
        run_pipeline(env, *day[0])  # the backfill
        server.inject(Fault(status=200, times=1, delay=30, path="/orders"))  # orders are read after the slice
        victim = pipeline_process(env, *day[1])
        kill_when(victim, lambda: any("/orders" in e[1] for e in server.request_log[-3:]), "the orders request")
        run_pipeline(env, *day[1])
        victim = pipeline_process(env, *day[2])
        kill_when(victim, loading_package(warehouse), "the load")
        run_pipeline(env, *day[2])

    slices = query(warehouse, "select reconcile_first, reconcile_last from raw_acuity.sync_runs order by started_at")
    first, killed_in_load_then_next = slices[1], slices[2]
    backfilled_from = query(warehouse, "select min(window_first) from raw_acuity.sync_runs")[0][0]
    assert first[0] == backfilled_from, "the run killed before loading did not use up the first slice"
    assert killed_in_load_then_next[0] > first[1] + timedelta(days=1), (
        "the slice of the run killed while loading was loaded when its package was finished: the next run moved on"
    )


def test_a_slice_retires_nothing_of_another_tenant_or_outside_its_dates(workdir: Path, monkeypatch) -> None:
    """North and south are the same account twice. After the backfill, north loses three old appointments (200, 300,
    400 days old) while south keeps them; the next run of both reconciles one slice that holds only the oldest one."""
    north, south = build_account("seed", 42, AS_OF), build_account("seed", 42, AS_OF)
    monkeypatch.setenv("ACUITY_SINCE", (AS_OF - timedelta(days=450)).isoformat())
    monkeypatch.setenv("ACUITY_RECONCILE_RUNS", "6")  # history of ~360 days: the first slice ends ~390 days ago
    monkeypatch.setenv("ACUITY_API_KEY_NORTH", "key-n")
    monkeypatch.setenv("ACUITY_API_KEY_SOUTH", "key-s")
    with SandboxServer({"1": ("key-n", north), "2": ("key-s", south)}) as server:
        tenants = str(write_tenants(workdir / "tenants.toml", server.base_url, {"north": "1", "south": "2"}))
        assert run(settings_from_env(AS_OF.isoformat()), tenants_file=tenants).failures == []
        deleted = [north.delete_days_old(days) for days in (400, 300, 200)]
        next_day = (AS_OF + timedelta(days=1)).isoformat()
        assert run(settings_from_env(next_day), tenants_file=tenants).failures == []

    with duckdb.connect(str(workdir / "acuity.duckdb"), read_only=True) as connection:
        removed = connection.execute(
            f"""select tenant_id, appointment_id from staging.stg_acuity__appointments
                where is_removed and appointment_id in ({", ".join(map(str, deleted))})"""
        ).fetchall()
        slices = connection.execute(
            "select tenant_id, reconcile_retired from raw_acuity.sync_runs where reconcile_status = 'done' order by 1"
        ).fetchall()
    assert removed == [("north", deleted[0])], "only north's appointment inside the slice is retired"
    assert slices == [("north", 1), ("south", 0)]
