"""Complete history: Acuity has no "modified since", so each daily run also re-reads one slice of the history older
than its live window, in rotation. An edit, a cancellation and a deletion of old appointments reach the marts within
the configured cycle, each run within its request budget, and a slice retires nothing outside its dates."""

from __future__ import annotations

import itertools
from datetime import timedelta

from helpers import AS_OF, Env

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
