"""The extractor against the sandbox over HTTP: complete reads without paging, retries, and clear failures."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from helpers import API_KEY, AS_OF, USER_ID, Env

from extract.client import AcuityClient
from extract.errors import AcuityAuthError
from extract.paging import APPOINTMENTS_PER_ANSWER, DEFAULT_PAGE_CEILING, read_all_orders, read_appointment_window
from sandbox import Fault, SandboxServer, build_account

PROJECT = Path(__file__).resolve().parents[1]


@pytest.fixture
def server():
    account = build_account(scenario="seed", seed=42, as_of=AS_OF)
    with SandboxServer({USER_ID: (API_KEY, account)}, rate_limit=False) as srv:
        yield srv, account


def test_window_read_is_complete_when_every_response_is_truncated(server) -> None:
    srv, account = server
    client = AcuityClient(srv.base_url, USER_ID, API_KEY)
    fetch = client.get

    # a ceiling of 50 forces every one of ~40 answers to be truncated
    rows = list(read_appointment_window(fetch, date(2024, 1, 1), date(2028, 1, 1), 50, page_ceiling=50))

    assert len(rows) == len({r["id"] for r in rows}) == account.ground_truth()["appointments"]
    full = [e for e in srv.request_log if "/appointments?" in e[1]]
    assert len(full) > 2000 / 50, "every full response was followed by another request"
    # each response ended a window or moved past dates it proved complete: close to the minimum number of requests
    assert client.stats.requests <= 1.3 * (2000 / 50) + 2


def test_a_single_day_with_more_rows_than_max_grows_max(server) -> None:
    srv, _ = server
    client = AcuityClient(srv.base_url, USER_ID, API_KEY)
    busy_day = date(2026, 12, 1)
    on_day = client.get("/appointments", {"minDate": "2026-12-01", "maxDate": "2026-12-01", "max": 999})

    half = max(1, len(on_day) // 2)
    rows = list(read_appointment_window(client.get, busy_day, busy_day, half, expected=0))

    assert len(on_day) >= 2
    assert {r["id"] for r in rows} == {r["id"] for r in on_day}


def test_orders_are_reread_at_the_ceiling_when_the_first_answer_is_full(server) -> None:
    srv, account = server
    client = AcuityClient(srv.base_url, USER_ID, API_KEY)

    orders = read_all_orders(client.get, 10, expected=0, page_ceiling=5000)

    assert len(orders) == account.ground_truth()["orders"]
    assert [e[1] for e in srv.request_log] == ["/api/v1/orders?max=10", "/api/v1/orders?max=5000"]


def test_a_whole_account_window_takes_one_request_at_the_ceiling(server) -> None:
    srv, account = server
    client = AcuityClient(srv.base_url, USER_ID, API_KEY)

    rows = list(read_appointment_window(client.get, date(2024, 1, 1), date(2028, 1, 1), 1000))

    assert len(rows) == len({r["id"] for r in rows}) == account.ground_truth()["appointments"]
    largest = min(DEFAULT_PAGE_CEILING, APPOINTMENTS_PER_ANSWER)  # the ceiling, within the memory bound per answer
    assert [e[1] for e in srv.request_log] == [  # a pad day on each side: the zone minDate compares in is unknown
        f"/api/v1/appointments?minDate=2023-12-31&maxDate=2028-01-02&max={largest}&direction=ASC&showall=true"
    ]


@pytest.mark.parametrize("retry_after", [pytest.param(1, marks=pytest.mark.slow), None])
def test_429_and_5xx_are_retried_and_counted(env: Env, retry_after: int | None) -> None:
    env.server.inject(Fault(status=429, times=2, retry_after=retry_after, path="/appointments"))
    env.server.inject(Fault(status=503, times=2, path="/clients"))

    report = env.sync()

    assert report.failures == []
    run = env.query("select http_429, http_5xx, clients_status, appointments_status from raw_acuity.sync_runs")
    assert run == [(2, 2, 200, 200)]
    assert env.scalar("select count(*) from marts.future_appointments") == 100


def test_wrong_key_fails_at_once_with_a_clear_line_and_no_key(env: Env) -> None:
    env.monkeypatch.setenv("ACUITY_API_KEY", "wrong-key-3b9e7d1c")

    report = env.sync()

    assert len(report.failures) == 1
    line = report.failures[0]
    assert "401" in line and "ACUITY_API_KEY" in line and "wrong-key-3b9e7d1c" not in line
    assert len([e for e in env.server.request_log if e[2] == 401]) == 1, "a 401 is not retried"
    assert env.query("select status from raw_acuity.sync_runs") == [("failed",)]


def test_cli_against_a_standalone_sandbox_keeps_the_key_out_of_every_output(tmp_path: Path) -> None:
    """The same code path as `make pipeline` with ACUITY_* set, in a child process; a 401 run, then a good run."""
    secret = "key-e2f7c1a9-never-in-output"
    account = build_account(scenario="seed", seed=42, as_of=AS_OF)
    with SandboxServer({USER_ID: (secret, account)}) as srv:
        env = {
            **os.environ,
            "ACUITY_BASE_URL": srv.base_url,
            "ACUITY_USER_ID": USER_ID,
            "ACUITY_WAREHOUSE": str(tmp_path / "w.duckdb"),
            "ACUITY_DLT_DIR": str(tmp_path / "dlt"),
            "ACUITY_DBT_TARGET_PATH": str(tmp_path / "target"),
        }
        bad = subprocess.run(
            [sys.executable, "-m", "transform", "--as-of", "2026-11-24"],
            env={**env, "ACUITY_API_KEY": secret + "x"},
            capture_output=True,
            text=True,
            cwd=PROJECT,
        )
        good = subprocess.run(
            [sys.executable, "-m", "transform", "--as-of", "2026-11-24"],
            env={**env, "ACUITY_API_KEY": secret},
            capture_output=True,
            text=True,
            cwd=PROJECT,
        )

    assert bad.returncode == 1
    assert bad.stderr.strip().splitlines()[-1].startswith("error: tenant default: Acuity refused the credentials")
    assert good.returncode == 0, good.stderr
    assert "99 matched to a contact, 1 with no matching contact" in good.stdout
    assert "$5,856 from 17 contacts" in good.stdout
    assert "embedded sandbox" not in good.stdout
    leaks = [name for name in ("stdout", "stderr") for run in (bad, good) if secret in getattr(run, name)]
    for path in tmp_path.rglob("*"):
        if path.is_file() and secret.encode() in path.read_bytes():
            leaks.append(str(path))
    assert leaks == []


def test_auth_error_text_never_contains_the_key(server) -> None:
    srv, _ = server
    with pytest.raises(AcuityAuthError) as caught:
        AcuityClient(srv.base_url, USER_ID, "not-the-key-5c1d").get("/me")
    assert "not-the-key-5c1d" not in str(caught.value) and "not-the-key-5c1d" not in repr(caught.value)
