"""Complete history: Acuity has no "modified since", so each daily run also re-reads one slice of the history older
than its live window, in rotation. An edit, a cancellation and a deletion of old appointments reach the marts within
the configured cycle, each run within its request budget, and a slice retires nothing outside its dates — nor, in
whatever zone Acuity compares minDate/maxDate, anything dated on the first or last day of a window or slice."""

from __future__ import annotations

import dataclasses
import itertools
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest
from helpers import (
    API_KEY,
    AS_OF,
    USER_ID,
    Env,
    kill_when,
    loading_package,
    pipeline_process,
    request_arrives,
    run_pipeline,
    sandbox_env,
)
from test_day_n import day_n_env, query
from test_tenants_and_postgres import write_tenants

from extract.config import SyncSettings, settings_from_env, tenant_from_env
from extract.pipeline import choose_reconcile_span, choose_window, sync_tenant
from extract.source import AppointmentWindow, SourceState
from sandbox import Account, Fault, Readings, SandboxServer, build_account
from sandbox.catalog import CALENDARS
from transform import warehouse as warehouses
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


@pytest.mark.slow
def test_a_killed_run_does_not_skip_its_slice(tmp_path: Path) -> None:
    """The rotation position is committed with the load: a run killed before its load leaves its slice to the next
    run; one killed during its load has its slice loaded when the next run finishes that load."""
    account = build_account("seed", 42, AS_OF)
    warehouse = tmp_path / "acuity.duckdb"
    with SandboxServer({USER_ID: (API_KEY, account)}, rate_limit=False) as server:
        since = (AS_OF - timedelta(days=600)).isoformat()
        env = {**day_n_env(server, warehouse), "ACUITY_RECONCILE_RUNS": str(CYCLE), "ACUITY_SINCE": since}
        day = [("--as-of", (AS_OF + timedelta(days=n)).isoformat()) for n in range(4)]
        run_pipeline(env, *day[0])  # the backfill
        server.inject(Fault(status=200, times=1, delay=30, path="/orders"))  # orders are read after the slice
        orders_requested = request_arrives(server, "/orders")
        victim = pipeline_process(env, *day[1])
        kill_when(victim, orders_requested, "the orders request")
        run_pipeline(env, *day[1])
        victim = pipeline_process(env, *day[2])
        kill_when(victim, loading_package(warehouse), "the load")
        run_pipeline(env, *day[2])

    done = "from raw_acuity.sync_runs where status = 'success'"  # the killed runs are on record too, as interrupted
    slices = query(warehouse, f"select reconcile_first, reconcile_last {done} order by started_at")
    first, killed_in_load_then_next = slices[1], slices[2]
    backfilled_from = query(warehouse, f"select min(window_first) {done}")[0][0]
    assert first[0] == backfilled_from, "the run killed before loading did not use up the first slice"
    assert killed_in_load_then_next[0] > first[1] + timedelta(days=1), (
        "the slice of the run killed while loading was loaded when its package was finished: the next run moved on"
    )


@pytest.mark.slow
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


# ---- the zone minDate/maxDate compare in (issue 15) -----------------------------------------------------------------
# Acuity does not say. Under the UTC or the account's (New York) reading, a west-coast start at 21:30 is dated the next
# day and a London start at 00:30 the day before (New York all year, UTC in summer time), so a read of [first, last]
# that asked for exactly those dates would miss them, and scd2 would retire what it missed.
EDGE_CYCLE = 3
WEST, EAST = "America/Los_Angeles", "Europe/London"


def planned_reads(days: list[SyncSettings]) -> list[AppointmentWindow]:
    """What the backfill (``days[0]``) and each later run will read, decided by the pipeline's own functions."""
    state, plan = SourceState(), []
    for settings in days:
        window = choose_window(state, settings)
        span = choose_reconcile_span(state, settings, window)
        plan.append(dataclasses.replace(window, reconcile=span))
        state = dataclasses.replace(
            state,
            backfilled_from=min(filter(None, [state.backfilled_from, window.first])),
            reconcile_next=span.last + timedelta(days=1) if span else state.reconcile_next,
        )
    return plan


def edge_days(read: AppointmentWindow) -> set[date]:
    spans = [(read.first, read.last), *([(read.reconcile.first, read.reconcile.last)] if read.reconcile else [])]
    return {day for span in spans for day in span}


def place_at_edge(account: Account, day: date, used: set[int]) -> list[int]:
    """Move two active appointments (the nearest on their calendar) to local date ``day``: 21:30 on the west-coast
    calendar and 00:30 on the London one. Returns their ids."""
    moved = []
    for zone, at in ((WEST, time(21, 30)), (EAST, time(0, 30))):
        calendar = next(c.id for c in CALENDARS if c.timezone == zone)
        start = datetime.combine(day, at, ZoneInfo(zone))
        candidates = [a for a in account.iter_appointments() if a.calendar_id == calendar and not a.canceled]
        nearest = min((a for a in candidates if a.id not in used), key=lambda a: abs(a.start - start))
        account.reschedule(nearest.id, start)
        used.add(nearest.id)
        moved.append(nearest.id)
    return moved


def extract_and_load(settings: SyncSettings) -> None:
    """One tenant's sync (extract and load over HTTP, the run row), without dbt: what this test checks is raw."""
    target = warehouses.current()
    tenant = tenant_from_env()
    assert tenant is not None
    result = sync_tenant(
        tenant, settings, target.destination(), target.pipelines_dir, target.loader_file_format, log=lambda _: None
    )
    assert result.status == "success", result.error


@pytest.mark.parametrize(
    "zone", [pytest.param("calendar", marks=pytest.mark.slow), "UTC", pytest.param("account", marks=pytest.mark.slow)]
)
def test_appointments_on_the_edge_days_of_windows_and_slices_are_read_whatever_zone_min_date_compares_in(
    zone: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a backfill, daily runs (as-of advancing, a slice reconciled each) never retire an appointment dated on
    the first or last day of a window or slice, edits of such appointments reach raw in the run whose edge they are
    on, and an appointment dated just beyond a window (the day a read also asks for) is not loaded by that run."""
    with sandbox_env(tmp_path, monkeypatch, Readings(date_zone=zone)) as env:
        since = AS_OF - timedelta(days=600)
        env.monkeypatch.setenv("ACUITY_RECONCILE_RUNS", str(EDGE_CYCLE))
        env.monkeypatch.setenv("ACUITY_SINCE", since.isoformat())
        days = [settings_from_env((AS_OF + timedelta(days=n)).isoformat()) for n in range(EDGE_CYCLE + 1)]
        plan = planned_reads(days)
        used: set[int] = set()
        placed = {day: place_at_edge(env.account, day, used) for day in sorted(set().union(*map(edge_days, plan)))}

        def current(ids: list[int]) -> dict[int, tuple[str, ...]]:
            """Each id's current versions in raw (its notes), retired versions left out."""
            if not ids:
                return {}
            rows = env.query(
                f"""select id, notes from raw_acuity.appointments
                    where _dlt_valid_to is null and id in ({", ".join(map(str, ids))}) order by id, notes"""
            )
            return {key: tuple(notes for _, notes in group) for key, group in itertools.groupby(rows, lambda r: r[0])}

        for n, settings in enumerate(days):  # the backfill, then daily runs
            edited = [key for day in sorted(edge_days(plan[n])) for key in placed[day]] if n else []
            if n:
                env.account.advance(days=1)
            for key in edited:
                env.account.edit(key, notes=f"edited before run {n}")
            extract_and_load(settings)
            served = {key: (env.account.appointment(key)["notes"],) for key in edited}  # the demo's \r\n included
            assert current(edited) == served, (
                f"run {n} ({plan[n]}) missed or retired an appointment on the edge of what it read"
            )
            if n < EDGE_CYCLE:  # the day after this run's window is the next run's last day
                beyond = placed[plan[n].last + timedelta(days=1)]
                assert current(beyond) == {}, "a day past the window is read, not loaded: that is the next run's"

        runs = env.query(
            """select window_first, window_last, reconcile_first, reconcile_last
               from raw_acuity.sync_runs order by started_at"""
        )
        assert runs == [(r.first, r.last, *((r.reconcile.first, r.reconcile.last) if r.reconcile else (None, None)))
                        for r in plan]  # fmt: skip
        # the pad days' rows are counted in the run row (each run but the last read the next one's last day), and
        # under the calendar reading nothing beyond them comes back, so nothing is quarantined as outside the window
        edge = env.query("select appointments_edge_overlap from raw_acuity.sync_runs order by started_at")
        assert all(count >= 1 for (count,) in edge[:-1]), edge
        if zone == "calendar":
            tables = env.query("select table_name from information_schema.tables where table_schema = 'raw_acuity'")
            outside = "select count(*) from raw_acuity.rejected_records where reason = 'outside_requested_window'"
            assert ("rejected_records",) not in tables or env.scalar(outside) == 0
        loaded = [key for day, keys in placed.items() if day <= plan[-1].last for key in keys]
        assert current(loaded) == {key: (env.account.appointment(key)["notes"],) for key in loaded}
        doubled = "select id from raw_acuity.appointments where _dlt_valid_to is null group by id having count(*) > 1"
        assert env.query(doubled) == []
