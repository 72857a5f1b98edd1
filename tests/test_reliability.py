"""The fault suite: every fault the sandbox can play ends in the clean-run result, or in a one-line failure that
leaves the published data exactly as it was. Real HTTP, real DuckDB files, real processes."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from helpers import (
    API_KEY,
    AS_OF,
    PROJECT,
    USER_ID,
    Env,
    assert_same_marts,
    child_has_open,
    kill_when,
    loading_package,
    pipeline_process,
    request_arrives,
    run_pipeline,
)

from sandbox import Fault, SandboxServer, build_account
from transform.publish import analyst_path, exclusive_run


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_transient_faults_are_retried_to_the_clean_result(env: Env) -> None:
    env.monkeypatch.setenv("RUNTIME__REQUEST_TIMEOUT", "1")
    env.server.inject(Fault(status=429, times=3, retry_after=0.2, path="/appointments"))
    env.server.inject(Fault(status=429, times=2, path="/clients"))
    env.server.inject(Fault(status=502, times=2, path="/orders"))
    env.server.inject(Fault(status=200, times=1, reset=True, path="/calendars"))
    env.server.inject(Fault(status=200, times=2, body='[{"id": 1, "name": "trunc', path="/appointment-types"))
    env.server.inject(Fault(status=200, times=1, delay=2.5, path="/me"))

    report = env.sync()

    assert report.failures == []
    statuses = [status for _, _, status in env.server.request_log]
    assert statuses.count(429) == 5 and statuses.count(502) == 2
    env.assert_marts_equal_ground_truth()
    run = env.query("select http_429, http_5xx, http_requests from raw_acuity.sync_runs")
    assert run == [(5, 2, len(env.server.request_log))], "every attempt is counted, the reset/truncated/slow ones too"


@pytest.mark.slow
def test_a_server_that_ignores_min_date_and_repeats_rows_still_yields_the_clean_result(env: Env) -> None:
    """Full responses from a server ignoring minDate are covered request by request in tests/unit/test_paging.py;
    here the same faults over HTTP, through the whole pipeline."""
    env.monkeypatch.setenv("ACUITY_PAGE_SIZE", "400")

    def repeat_rows(rows: list[dict]) -> list[dict]:
        return rows[:3] + rows  # 3 ids twice in one response

    env.server.inject(Fault(status=200, times=2, mangle=repeat_rows, path="/appointments"))
    env.server.inject(Fault(status=200, times=3, ignore_params=("minDate",), path="/appointments"))

    report = env.sync()

    assert report.failures == []
    env.assert_marts_equal_ground_truth()
    answers = len([e for e in env.server.request_log if e[1].split("?")[0].endswith("/appointments")])
    rejected = env.query("select reason, action, count(*) from marts.rejected_records group by all")
    assert rejected == [("duplicate_id_in_response", "deduplicated", 3 * min(2, answers))]


def test_bad_records_are_quarantined_counted_and_never_fatal(env: Env) -> None:
    def add_bad_records(rows: list[dict]) -> list[dict]:
        if not rows:
            return rows
        template = {**rows[0], "canceled": True}  # canceled, so the ground truth's future metrics stay exact
        bad = [
            {**template, "id": 990001, "datetime": None},
            {**template, "id": 990002, "datetime": "next tuesday"},
            {**template, "id": None},
            {**template, "id": 990004, "calendarTimezone": "Mars/Olympus_Mons"},
            {**template, "id": 990005, "price": "fifty", "amountPaid": "n/a"},
            {**template, "id": 990006, "email": None, "phone": None},
        ]
        return rows + bad

    env.server.inject(Fault(status=200, times=10**6, mangle=add_bad_records, path="/appointments"))
    env.server.inject(
        Fault(
            status=200,
            times=10**6,
            mangle=lambda rows: [*rows, {**rows[0], "id": 880001, "total": "ten"}],
            path="/orders",
        )
    )

    report = env.sync()

    assert report.failures == []
    env.assert_marts_equal_ground_truth()
    rejected = set(env.query("select resource, record_id, reason, action from marts.rejected_records"))
    assert rejected == {
        ("appointments", "990001", "missing_datetime", "skipped"),
        ("appointments", "990002", "invalid_datetime", "skipped"),
        ("appointments", None, "missing_id", "skipped"),
        ("appointments", "990004", "unknown_timezone", "kept"),
        ("appointments", "990005", "invalid_money_price", "kept"),
        ("appointments", "990005", "invalid_money_amountPaid", "kept"),
        ("orders", "880001", "invalid_money_total", "kept"),
    }
    payload = env.scalar("select payload from marts.rejected_records where record_id = '990002'")
    assert '"datetime": "next tuesday"' in payload
    metrics = env.query(
        """select appointments_skipped_missing_time, appointments_skipped_invalid_record, records_skipped,
                  records_flagged from marts.sync_metrics"""
    )
    assert metrics == [(2, 1, 3, 4)]
    loaded = {
        r[0]
        for r in env.query(
            "select appointment_id from staging.stg_acuity__appointments where appointment_id between 990000 and 990999"
        )
    }
    assert loaded == {990004, 990005, 990006}


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        (Fault(status=403, times=1, path="/me"), "HTTP 403"),
        (Fault(status=404, times=1, path="/clients"), "check ACUITY_BASE_URL"),
        (Fault(status=500, times=10**6, path="/orders"), "HTTP 500"),
    ],
)
def test_permanent_errors_fail_in_one_line_and_publish_nothing(env: Env, fault: Fault, expected: str) -> None:
    env.monkeypatch.setenv("RUNTIME__REQUEST_MAX_ATTEMPTS", "3")
    env.sync()
    published = analyst_path(env.warehouse)
    before = digest(published)
    env.account.mutate_all(rng_seed=1)
    env.server.inject(fault)

    report = env.sync()

    assert len(report.failures) == 1 and expected in report.failures[0] and "\n" not in report.failures[0]
    assert report.published is None and digest(published) == before
    if fault.status != 500:
        assert len([e for e in env.server.request_log if e[2] == fault.status]) == 1, "not retried"


@pytest.mark.slow
def test_an_open_analyst_session_neither_blocks_the_sync_nor_sees_it_half_done(env: Env) -> None:
    env.sync()
    published = analyst_path(env.warehouse)
    reader = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time\n"
            f"c = duckdb.connect({str(published)!r}, read_only=True)\n"
            "n = c.execute('select count(*) from marts.future_appointments').fetchone()[0]\n"
            "print(n, flush=True)\n"
            "sys.stdin.readline()\n"  # hold the session open until told
            "print(c.execute('select count(*) from marts.future_appointments').fetchone()[0], flush=True)\n",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert reader.stdout.readline().strip() == "100"
    env.account.book(3)

    report = env.sync()

    out, _ = reader.communicate("\n", timeout=30)
    assert report.failures == [] and report.published == published
    assert out.strip() == "100", "the open session kept its consistent snapshot"
    with duckdb.connect(str(published), read_only=True) as fresh:
        assert fresh.execute("select count(*) from marts.future_appointments").fetchone()[0] == 103


def test_a_second_pipeline_is_refused_with_a_clear_message(env: Env) -> None:
    with exclusive_run(env.warehouse):
        second = subprocess.run(
            [sys.executable, "-m", "transform", "--as-of", AS_OF.isoformat()],
            env=dict(os.environ),
            capture_output=True,
            text=True,
            cwd=PROJECT,
            timeout=120,
        )
    assert second.returncode == 1
    assert "another pipeline run" in second.stderr and "wait for it to finish" in second.stderr
    assert not env.warehouse.exists() or env.query("select count(*) from raw_acuity.sync_runs") == [(0,)]


@pytest.mark.parametrize(
    "stage", [pytest.param("extract", marks=pytest.mark.slow), "load", pytest.param("dbt", marks=pytest.mark.slow)]
)
def test_kill_9_at_any_stage_then_rerun_equals_a_clean_run(tmp_path: Path, stage: str) -> None:
    account = build_account("seed", 42, AS_OF)
    with SandboxServer({USER_ID: (API_KEY, account)}, rate_limit=False) as server:
        base = {
            **os.environ,
            "ACUITY_BASE_URL": server.base_url,
            "ACUITY_USER_ID": USER_ID,
            "ACUITY_API_KEY": API_KEY,
            "ACUITY_PAGE_SIZE": "200",
        }

        def env_for(name: str) -> dict[str, str]:
            return {
                **base,
                "ACUITY_WAREHOUSE": str(tmp_path / name / "acuity.duckdb"),
            }

        run_pipeline(env_for("clean"), "--as-of", AS_OF.isoformat())

        crashed_env = env_for("crashed")
        crashed = tmp_path / "crashed" / "acuity.duckdb"
        if stage == "extract":
            server.inject(Fault(status=200, times=1, delay=30, path="/orders"))
            orders_requested = request_arrives(server, "/orders")
        victim = pipeline_process(crashed_env, "--as-of", AS_OF.isoformat())
        if stage == "extract":
            kill_when(victim, orders_requested, "the orders request")
        elif stage == "load":
            kill_when(victim, loading_package(crashed), "a normalized load package")
        else:
            kill_when(victim, child_has_open(victim, crashed), "dbt build")

        run_pipeline(crashed_env, "--as-of", AS_OF.isoformat())

    assert_same_marts(crashed, tmp_path / "clean" / "acuity.duckdb")
    assert_same_marts(analyst_path(crashed), crashed)
    with duckdb.connect(str(crashed), read_only=True) as connection:
        dupes = connection.execute(
            """select count(*) from (select id from raw_acuity.appointments where _dlt_valid_to is null
               group by tenant_id, id having count(*) > 1)"""
        ).fetchone()[0]
        unfinished = connection.execute(
            """select count(*) from raw_acuity.appointments where _dlt_load_id not in
               (select load_id from raw_acuity._dlt_loads where status = 0)"""
        ).fetchone()[0]
    assert dupes == 0 and unfinished == 0
