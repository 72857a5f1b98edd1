"""Bad input is never silent, never fatal, never hung: record faults are loaded-and-flagged or quarantined and counted
(the conservation law), response faults fail in bounded time with one line naming the endpoint, and the HTTP client
keeps its deadlines, refuses off-host redirects and counts every attempt. Real HTTP: the sandbox, or a few-line
server of our own for what the sandbox cannot play (a trickled body, a redirect, a closed port)."""

from __future__ import annotations

import contextlib
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from helpers import API_KEY, USER_ID, Env, free_port

from extract.client import AcuityClient, RetryPolicy
from extract.errors import AcuityError
from extract.ratelimit import RateLimiter
from sandbox import Fault

RESOURCES = ("clients", "appointments", "orders", "appointment_types", "calendars", "addons", "certificates")
FUTURE = "2026-12-04T10:00:00-0500"  # within the first sync's window, after the as-of
# Extra rows dated FUTURE in a full (truncated) answer would move paging's cursor past rows it has not read: tests
# that add them read the window in one answer.
ONE_ANSWER = "5000"


# ---- a server for what the sandbox cannot play ---------------------------------------------------------------
Handler = Callable[[BaseHTTPRequestHandler, threading.Event], None]


@contextlib.contextmanager
def tiny_server(handle: Handler, host: str = "127.0.0.1") -> Iterator[str]:
    """Serve every request with ``handle(request, stopping)``; yields the base URL (``…/api/v1``)."""
    stopping = threading.Event()

    class Request(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            try:
                handle(self, stopping)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer((host, 0), Request)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_address[1]}/api/v1"
    finally:
        stopping.set()
        server.shutdown()
        server.server_close()


def client_for(base_url: str, **kwargs: Any) -> AcuityClient:
    kwargs.setdefault("retry", RetryPolicy(max_attempts=2, backoff_factor=0.05, timeout=60, max_delay=1))
    return AcuityClient(base_url, USER_ID, API_KEY, limiter=RateLimiter(1000), **kwargs)


# ---- the conservation law -------------------------------------------------------------------------------------
def assert_conserved(env: Env) -> dict[str, int]:
    """Every record the run fetched is in its raw table (loaded, maybe flagged) or quarantined, exactly once."""
    run_id, *fetched = env.query(
        f"select run_id, {', '.join('fetched_' + r for r in RESOURCES)} from raw_acuity.sync_runs"
        " order by started_at desc limit 1"
    )[0]
    balance = {}
    for resource, count in zip(RESOURCES, fetched, strict=True):
        loaded = env.scalar(f"select count(*) from raw_acuity.{resource} where _dlt_valid_to is null")
        skipped = env.scalar(
            f"select count(*) from raw_acuity.rejected_records where run_id = '{run_id}'"
            f" and resource = '{resource}' and action = 'skipped'"
        )
        assert count == loaded + skipped, f"{resource}: fetched {count} != loaded {loaded} + quarantined {skipped}"
        balance[resource] = skipped
    return balance


def rejected(env: Env) -> set[tuple]:
    return set(env.query("select resource, record_id, reason, action from raw_acuity.rejected_records"))


# ---- record-level faults: never fatal, never silent -----------------------------------------------------------
def test_record_faults_are_loaded_and_flagged_or_quarantined_and_the_sync_succeeds(env: Env) -> None:
    env.monkeypatch.setenv("ACUITY_PAGE_SIZE", ONE_ANSWER)

    def bad_appointments(rows: list[dict]) -> list[dict]:
        template = {**rows[0], "datetime": FUTURE, "canceled": True}
        return [
            *rows,
            {**template, "id": 970001, "canceled": "maybe"},  # unknown: not an active booking
            {**template, "id": 970002, "appointmentTypeID": "abc"},
            {**template, "id": 970003, "price": "99999999999999.99", "amountPaid": "12345678901234.00"},
            {**template, "id": 970004, "noShow": "perhaps", "firstName": {"nested": 1}},
            # keys dlt would load into one column, the last one winning: Acuity's documented key must win instead
            {**template, "id": 970005, "firstName": "Documented", "first_name": "Impostor", "Canceled": False},
            {**template, "id": 970006, "firstName": "Ann", "_dlt_id": "forged", "tenant_id": "another_tenant"},
        ]

    raw_orders = json.dumps(list(env.account.orders(10**6)))
    extra_orders = (
        '{"id": 880001, "total": "12345678901234.00", "status": "paid", "time": "2026-11-01 10:00"},'
        ' {"id": 880002, "total": 1e309, "status": "paid", "time": "2026-11-01 10:00"},'
        ' {"id": 18446744073709551616, "total": "1.00"}, null]'
    )
    env.server.inject(Fault(status=200, times=10**6, mangle=bad_appointments, path="/appointments"))
    env.server.inject(Fault(status=200, times=10**6, body=raw_orders[:-1] + ", " + extra_orders, path="/orders"))
    env.server.inject(
        Fault(
            status=200,
            times=10**6,
            mangle=lambda rows: [*rows, None, "text", 5, [], {**rows[0], "notes": "bad \ud800 text"}],
            path="/clients",
        )
    )

    report = env.sync()

    assert report.failures == [] and report.published is not None
    truth = env.account.ground_truth()
    assert rejected(env) == {
        ("appointments", "970001", "invalid_bool_canceled", "kept"),
        ("appointments", "970002", "invalid_int_appointmentTypeID", "kept"),
        ("appointments", "970003", "money_out_of_range_price", "kept"),
        ("appointments", "970003", "money_out_of_range_amountPaid", "kept"),
        ("appointments", "970004", "invalid_bool_noShow", "kept"),
        ("appointments", "970004", "invalid_text_firstName", "kept"),
        ("appointments", "970005", "key_collision_first_name", "kept"),
        ("appointments", "970005", "key_collision_canceled", "kept"),
        ("appointments", "970006", "reserved_key__dlt_id", "kept"),
        ("appointments", "970006", "reserved_key_tenant_id", "kept"),
        ("orders", "880001", "money_out_of_range_total", "kept"),
        ("orders", "880002", "money_out_of_range_total", "kept"),  # 1e309, read as infinity
        ("orders", str(2**64), "int_out_of_range_id", "skipped"),
        ("orders", None, "not_an_object", "skipped"),
        ("clients", None, "not_an_object", "skipped"),  # four of them, counted below
        ("clients", None, "invalid_unicode_notes", "skipped"),
    }
    counts = env.query(
        "select resource, reason, count(*) from raw_acuity.rejected_records where action = 'skipped' group by all"
    )
    assert sorted(counts) == [
        ("clients", "invalid_unicode_notes", 1),
        ("clients", "not_an_object", 4),
        ("orders", "int_out_of_range_id", 1),
        ("orders", "not_an_object", 1),
    ]
    assert assert_conserved(env) == {
        "clients": 5,
        "appointments": 0,
        "orders": 2,
        "appointment_types": 0,
        "calendars": 0,
        "addons": 0,
        "certificates": 0,
    }
    staged = {
        r[0]: r[1:]
        for r in env.query(
            """select appointment_id, is_canceled, appointment_type_id, price from staging.stg_acuity__appointments
               where appointment_id between 970001 and 970006"""
        )
    }
    assert set(staged) == {970001, 970002, 970003, 970004, 970005, 970006}, "flagged records are loaded"
    assert staged[970001][0] is True, "canceled: 'maybe' is not an active booking"
    assert staged[970002][1] is None and staged[970003][2] is None
    assert staged[970005][0] is True, "Canceled: false is not Acuity's canceled"
    # loaded once each, with the documented key's value, dlt's own row hash and the tenant's stamp
    assert env.query(
        "select id, first_name, canceled, tenant_id, _dlt_id = 'forged' from raw_acuity.appointments"
        " where id in (970005, 970006) order by id"
    ) == [(970005, "Documented", True, "default", False), (970006, "Ann", True, "default", False)]
    assert (
        env.scalar("select first_name from staging.stg_acuity__appointments where appointment_id = 970005")
        == "Documented"
    )
    payload = json.loads(
        env.scalar("select payload from raw_acuity.rejected_records where reason = 'key_collision_first_name'")
    )
    assert (payload["firstName"], payload["first_name"], payload["Canceled"]) == ("Documented", "Impostor", False)
    assert env.scalar("select count(*) from marts.future_appointments") == truth["future_active"]
    assert env.query("select records_skipped, records_flagged from marts.sync_metrics") == [(7, 12)]
    assert env.scalar("select count(*) from staging.stg_acuity__clients") == truth["clients"]
    assert env.scalar("select total_revenue from marts.sync_metrics") == truth["revenue_total"]


def test_an_appointment_no_column_can_hold_or_dated_outside_the_window_is_quarantined_and_the_build_balances(
    env: Env,
) -> None:
    env.monkeypatch.setenv("ACUITY_PAGE_SIZE", ONE_ANSWER)

    def unstorable(rows: list[dict]) -> list[dict]:
        template = {**rows[0], "datetime": FUTURE, "canceled": True}
        return [
            *rows,
            {**template, "id": 2**64},
            {**template, "id": 970006, "lastName": "bad \ud800 text"},
            # years past the window's last day (as-of + 400 days): a server that ignored maxDate
            {**rows[0], "id": 970007, "datetime": "2031-03-04T10:00:00-0500"},
        ]

    env.server.inject(Fault(status=200, times=10**6, mangle=unstorable, path="/appointments"))

    report = env.sync()

    assert report.failures == []
    assert rejected(env) == {
        ("appointments", str(2**64), "int_out_of_range_id", "skipped"),
        ("appointments", "970006", "invalid_unicode_lastName", "skipped"),
        ("appointments", "970007", "outside_requested_window", "skipped"),
    }
    assert assert_conserved(env)["appointments"] == 3
    counted = env.query(
        "select appointments_rejected_invalid, appointments_rejected_time, records_skipped from raw_acuity.sync_runs"
    )
    assert counted == [(3, 0, 3)], "counted in the run row, and not as a record whose time is broken"
    env.assert_marts_equal_ground_truth()


def test_a_canceled_value_that_is_no_boolean_lands_where_staging_looks(env: Env) -> None:
    """What dlt really does with `canceled: "maybe"`: a variant column, which staging reads as canceled."""
    env.monkeypatch.setenv("ACUITY_PAGE_SIZE", ONE_ANSWER)
    env.server.inject(
        Fault(
            status=200,
            times=10**6,
            mangle=lambda rows: [*rows, {**rows[0], "id": 970101, "datetime": FUTURE, "canceled": "maybe"}],
            path="/appointments",
        )
    )
    assert env.sync().failures == []
    columns = {r[0] for r in env.query("describe raw_acuity.appointments")}
    assert "canceled__v_text" in columns
    assert env.query("select canceled, canceled__v_text from raw_acuity.appointments where id = 970101") == [
        (None, "maybe")
    ]


@pytest.mark.parametrize(
    "page_size", [pytest.param("2000", marks=pytest.mark.slow), "40"]
)  # a response that is not full, and full ones
def test_impossible_appointments_are_quarantined_not_dropped_or_fatal(env: Env, page_size: str) -> None:
    env.monkeypatch.setenv("ACUITY_PAGE_SIZE", page_size)

    def impossible(rows: list[dict]) -> list[dict]:
        template = {**rows[0], "canceled": True}
        return [
            *rows,
            None,
            "text",
            {**template, "id": 960001, "datetime": "0001-01-01T00:00:00+1400"},
            {**template, "id": 960002, "datetime": "9999-12-31T23:59:59-1200"},
        ]

    env.server.inject(Fault(status=200, times=10**6, mangle=impossible, path="/appointments"))

    report = env.sync()

    assert report.failures == []
    assert {r[1:] for r in rejected(env) if r[0] == "appointments"} >= {
        ("960001", "datetime_out_of_range", "skipped"),
        ("960002", "datetime_out_of_range", "skipped"),
        (None, "not_an_object", "skipped"),
    }
    assert_conserved(env)


# ---- response-level faults: one line naming the endpoint, in bounded time -------------------------------------
@pytest.mark.parametrize(
    ("fault", "words"),
    [
        (Fault(status=200, times=10**6, body='{"clients": []}', path="/clients"), "GET /clients at"),
        (Fault(status=200, times=10**6, body='{"clients": []}', path="/clients"), "an object where a list"),
        (Fault(status=200, times=10**6, body='[{"id": 1}]', path="/me"), "a list where an object was expected"),
        (Fault(status=200, times=10**6, body="<html>busy</html>", path="/calendars"), "GET /calendars at"),
        (Fault(status=200, times=10**6, body="<html>busy</html>", path="/calendars"), "body that is not JSON"),
        (Fault(status=200, times=10**6, reset=True, path="/appointment-types"), "answered a truncated body"),
        (Fault(status=200, times=10**6, delay=2.5, path="/me"), "timed out after 1 s reading GET /me"),
    ],
)
def test_response_faults_fail_in_one_line_naming_the_endpoint_after_the_retries(
    env: Env, fault: Fault, words: str
) -> None:
    env.monkeypatch.setenv("RUNTIME__REQUEST_MAX_ATTEMPTS", "3")
    env.monkeypatch.setenv("RUNTIME__REQUEST_TIMEOUT", "1")
    env.server.inject(fault)

    report = env.sync()

    assert len(report.failures) == 1 and report.published is None
    line = report.failures[0]
    assert words in line and "(3 attempts)" in line, line
    assert "\n" not in line and API_KEY not in line and "Traceback" not in line
    assert env.scalar("select http_requests from raw_acuity.sync_runs") == 3 + len(
        [e for e in env.server.request_log if not e[1].split("?")[0].endswith(fault.path)]
    ), "retried like any transient fault, then given up; every attempt counted"


# ---- waits and deadlines ----------------------------------------------------------------------------------------
def test_with_dlts_real_defaults_retries_wait_and_say_so_and_a_long_retry_after_fails_at_once(
    env: Env, capfd: pytest.CaptureFixture[str]
) -> None:
    """No RUNTIME__* shortening here: 5 attempts, backoff 1 s doubling, 60 s timeout, 300 s cap (dlt's defaults)."""
    for name in ("RUNTIME__REQUEST_BACKOFF_FACTOR", "RUNTIME__REQUEST_MAX_RETRY_DELAY"):
        env.monkeypatch.delenv(name, raising=False)
    env.server.inject(Fault(status=503, times=3, path="/calendars"))
    env.server.inject(Fault(status=429, times=10**6, retry_after=3600, path="/appointments"))

    report = env.sync()

    assert len(report.failures) == 1
    line = report.failures[0]
    assert "GET /appointments" in line and "HTTP 429" in line
    assert "asked to wait 3600 s (Retry-After), longer than the 300 s a sync may wait" in line
    assert len([e for e in env.server.request_log if e[2] == 429]) == 1, "no waiting out the cap, no retry"
    assert [e[2] for e in env.server.request_log if "/calendars" in e[1]] == [503, 503, 503, 200]
    # waits of 1, 2 and 4 s (dlt's backoff): only the one over 3 s is announced
    announced = [line for line in capfd.readouterr().err.splitlines() if "waiting" in line]
    assert announced == [
        "acuity: waiting 4 s before retrying GET /calendars (GET /calendars at"
        f" {env.server.base_url} failed with HTTP 503 (Service Unavailable); attempt 4 of 5)"
    ]


def _trickle(request: BaseHTTPRequestHandler, stopping: threading.Event) -> None:
    """Headers at once, then one byte of the body every 20 s."""
    body = json.dumps([{"firstName": "A"}] * 20).encode()
    request.send_response(200)
    request.send_header("Content-Type", "application/json")
    request.send_header("Content-Length", str(len(body)))
    request.end_headers()
    for byte in body:
        request.wfile.write(bytes([byte]))
        request.wfile.flush()
        if stopping.wait(20):
            return


def test_a_trickled_body_gives_up_at_the_request_deadline_not_per_socket_read() -> None:
    with tiny_server(_trickle) as base_url:
        client = client_for(base_url, request_deadline_seconds=3)
        with pytest.raises(AcuityError) as caught:
            client.get("/clients")
    # the second byte comes 20 s after the first: one byte read means the 3 s deadline, not a socket timeout, ended it
    assert re.fullmatch(
        rf"timed out after \d+ s reading GET /clients at {re.escape(base_url)}: 1 bytes arrived before the 3 s"
        r" request deadline \(ACUITY_REQUEST_DEADLINE\) passed",
        str(caught.value),
    ), caught.value
    assert client.stats.requests == 1 and client.stats.bytes_received == 1


def test_a_server_that_never_answers_gives_up_at_the_request_deadline() -> None:
    def silent(request: BaseHTTPRequestHandler, stopping: threading.Event) -> None:
        stopping.wait(60)

    with tiny_server(silent) as base_url:
        client = client_for(base_url, request_deadline_seconds=2, retry=RetryPolicy(max_attempts=5, timeout=60))
        with pytest.raises(AcuityError) as caught:
            client.get("/orders")
    # the server holds every request for 60 s: the read timeout was cut to the 2 s left, and no retry was sent
    assert str(caught.value) == (
        f"timed out after 2 s reading GET /orders at {base_url} (no answer); gave up after 1 attempt: another try"
        " would pass the 2 s request deadline (ACUITY_REQUEST_DEADLINE)"
    )
    assert client.stats.requests == 1 and dict(client.stats.failures) == {"timeout": 1}


def test_no_request_starts_after_the_run_deadline(env: Env) -> None:
    client = client_for(env.server.base_url, run_deadline_seconds=1.0)
    assert isinstance(client.get("/me"), dict)
    time.sleep(1.1)
    with pytest.raises(AcuityError, match=r"the run deadline \(1 s, ACUITY_RUN_DEADLINE\) passed before GET /clients"):
        client.get("/clients")
    assert client.stats.requests == 1


def test_attempts_that_end_in_a_connection_error_are_counted(env: Env) -> None:
    env.monkeypatch.setenv("ACUITY_BASE_URL", f"http://127.0.0.1:{free_port()}/api/v1")  # nothing listens there
    env.monkeypatch.setenv("RUNTIME__REQUEST_MAX_ATTEMPTS", "3")

    report = env.sync()

    assert len(report.failures) == 1
    assert "is unreachable (connection refused) (3 attempts)" in report.failures[0]
    assert env.query("select status, http_requests from raw_acuity.sync_runs") == [("failed", 3)]


# ---- redirects --------------------------------------------------------------------------------------------------
def test_a_redirect_off_the_api_host_is_refused_naming_the_target_host(env: Env) -> None:
    """The other host would answer without auth (as in the report): no request may reach it at all."""
    sandbox_port = env.server.base_url.split(":")[2].split("/")[0]

    def elsewhere(request: BaseHTTPRequestHandler, stopping: threading.Event) -> None:
        request.send_response(302)
        request.send_header("Location", f"http://localhost:{sandbox_port}{request.path}")
        request.send_header("Content-Length", "0")
        request.end_headers()

    with tiny_server(elsewhere) as redirector:
        env.monkeypatch.setenv("ACUITY_BASE_URL", redirector)
        report = env.sync()

    assert len(report.failures) == 1 and report.published is None
    line = report.failures[0]
    assert f"GET /me was redirected to localhost:{sandbox_port}; refusing to send credentials off 127.0.0.1" in line
    assert "refused the credentials" not in line and API_KEY not in line
    assert env.server.request_log == []


def test_a_redirect_on_the_same_host_is_followed_with_the_credentials() -> None:
    seen: list[tuple[str, bool]] = []

    def moved(request: BaseHTTPRequestHandler, stopping: threading.Event) -> None:
        seen.append((request.path, request.headers.get("Authorization", "").startswith("Basic ")))
        if request.path.startswith("/api/v1/clients?"):
            request.send_response(301)
            request.send_header("Location", "/api/v1/clients-moved")
            request.send_header("Content-Length", "0")
            request.end_headers()
            return
        body = b'[{"firstName": "Ann"}]'
        request.send_response(200)
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        request.wfile.write(body)

    with tiny_server(moved) as base_url:
        client = client_for(base_url)
        assert client.get("/clients", {"search": "ann"}) == [{"firstName": "Ann"}]
    assert seen == [("/api/v1/clients?search=ann", True), ("/api/v1/clients-moved", True)]
    assert dict(client.stats.statuses) == {"301": 1, "200": 1}
