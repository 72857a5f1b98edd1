"""The client's decisions without a network: how each answer maps to a value, a retry or a one-line error, what
the retry loop waits and says, and which redirects it would follow."""

from __future__ import annotations

import io
import math
from typing import Any

import pytest
import requests
import urllib3
from requests.structures import CaseInsensitiveDict

import extract.client as client_module
from extract.client import (
    AcuityClient,
    RetryPolicy,
    _Deadline,
    _Done,
    _Retry,
    _retry_after,
    decode_json,
)
from extract.errors import AcuityAuthError, AcuityError, AcuityNotFoundError, AcuityResponseError
from extract.ratelimit import RateLimiter

pytestmark = pytest.mark.unit

BASE = "https://acuityscheduling.com/api/v1"
KEY = "unit-key-91c3-never-shown"
POLICY = RetryPolicy(max_attempts=5, backoff_factor=1, timeout=60, max_delay=300)


def make_client(announced: list[str] | None = None, **kwargs: Any) -> AcuityClient:
    sink = announced if announced is not None else []
    kwargs.setdefault("retry", POLICY)
    return AcuityClient(BASE, "10001", KEY, limiter=RateLimiter(1000), announce=sink.append, **kwargs)


def response(status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> requests.Response:
    """A requests.Response over an in-memory urllib3 body, as a streamed request would hand it over."""
    result = requests.Response()
    result.status_code = status
    result.headers = CaseInsensitiveDict(headers or {})
    result.raw = urllib3.HTTPResponse(
        body=io.BytesIO(body), headers=headers or {}, status=status, preload_content=False
    )
    result.url = f"{BASE}/x"
    result.reason = "Reason"
    return result


def answer(status: int, body: bytes = b"", endpoint: str = "/clients", **headers: str) -> _Done | _Retry:
    deadline = _Deadline(client_module.time.monotonic(), 300, float("inf"), 3600)
    return make_client()._answer(endpoint, response(status, body, headers), deadline)


def test_a_list_endpoint_answering_a_list_is_done_and_me_must_be_an_object() -> None:
    assert answer(200, b'[{"id": 1}]') == _Done([{"id": 1}])
    assert answer(200, b'{"id": 1}', endpoint="/me") == _Done({"id": 1})
    shape = answer(200, b'{"id": 1}', endpoint="/clients")
    assert isinstance(shape, _Retry) and "GET /clients" in shape.problem and "an object where a list" in shape.problem
    me = answer(200, b"[]", endpoint="/me")
    assert isinstance(me, _Retry) and "GET /me" in me.problem and "a list where an object" in me.problem


def test_a_body_that_is_not_json_or_is_cut_short_is_retried_with_what_happened() -> None:
    not_json = answer(200, b'[{"id": 1, "name": "trunc')
    assert isinstance(not_json, _Retry) and "not JSON" in not_json.problem and "GET /clients" in not_json.problem
    cut = answer(200, b'[{"id": 1}', **{"Content-Length": "100"})
    assert isinstance(cut, _Retry) and "answered a truncated body (10 of 100 bytes" in cut.problem


def test_numbers_beyond_a_double_do_not_make_the_body_not_json() -> None:
    value = decode_json(b'[{"id": 1, "price": 1e309, "name": "a\\ud800"}]')
    assert math.isinf(value[0]["price"]) and value[0]["name"] == "a\ud800"
    with pytest.raises(ValueError):
        decode_json(b"[1,")
    with pytest.raises(ValueError):
        decode_json(b"[" * 100_000)


@pytest.mark.parametrize(
    ("status", "error", "words"),
    [
        (401, AcuityAuthError, "check ACUITY_USER_ID and ACUITY_API_KEY"),
        (403, AcuityAuthError, "HTTP 403"),
        (404, AcuityNotFoundError, "check ACUITY_BASE_URL"),
        (400, AcuityError, "failed with HTTP 400 (The max parameter must be an integer.)"),
        (304, AcuityResponseError, "HTTP 304 without a redirect"),
    ],
)
def test_permanent_statuses_raise_one_line_without_the_key(status: int, error: type, words: str) -> None:
    body = b'{"status_code": 400, "message": "The max parameter must be an integer.", "error": "invalid"}'
    with pytest.raises(error) as caught:
        answer(status, body if status == 400 else b"")
    text = str(caught.value)
    assert words in text and "\n" not in text and KEY not in text and "GET /clients" in text


@pytest.mark.parametrize("status", [429, 500, 502, 503])
def test_throttling_and_server_errors_are_retried_with_the_servers_wait(status: int) -> None:
    outcome = answer(status, b'{"message": "Rate limit reached."}', **{"Retry-After": "7"})
    assert isinstance(outcome, _Retry) and outcome.retry_after == 7 and outcome.status == status
    assert f"HTTP {status} (Rate limit reached.)" in outcome.problem


def test_retry_after_reads_seconds_fractions_and_dates() -> None:
    assert _retry_after("3600") == 3600 and _retry_after(" 0.2 ") == 0.2
    assert _retry_after(None) is None and _retry_after("soon") is None and _retry_after("0") is None
    assert 3500 < _retry_after(_http_date_in(3600)) <= 3600


def _http_date_in(seconds: int) -> str:
    from email.utils import formatdate

    return formatdate(client_module.time.time() + seconds, usegmt=True)


class Scripted(AcuityClient):
    """A client whose attempts play a script instead of the network: the retry loop's decisions, exactly."""

    def __init__(self, outcomes: list[_Done | _Retry], **kwargs: Any) -> None:
        self.announced: list[str] = []
        super().__init__(BASE, "10001", KEY, announce=self.announced.append, retry=POLICY, **kwargs)
        self.outcomes = outcomes
        self.attempts = 0

    def _attempt(self, endpoint: str, params: Any, deadline: _Deadline) -> _Done | _Retry:
        self.attempts += 1
        return self.outcomes.pop(0)


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    slept: list[float] = []
    monkeypatch.setattr(client_module.time, "sleep", slept.append)
    return slept


def test_backoff_follows_dlts_rule_and_long_waits_are_announced(waits: list[float]) -> None:
    client = Scripted([_Retry("GET /orders failed with HTTP 503 (x)", None, 503)] * 3 + [_Done([])])
    assert client.get("/orders") == []
    assert waits == [1, 2, 4]
    assert client.announced == [
        "waiting 4 s before retrying GET /orders (GET /orders failed with HTTP 503 (x); attempt 4 of 5)"
    ]


def test_the_last_attempts_problem_is_the_error_after_the_retries(waits: list[float]) -> None:
    client = Scripted([_Retry("GET /clients at X answered a truncated body (5 of 10 bytes)")] * 5)
    with pytest.raises(AcuityError, match=r"answered a truncated body \(5 of 10 bytes\) \(5 attempts\)$"):
        client.get("/clients")
    assert client.attempts == 5 and waits == [1, 2, 4, 8]


def test_a_retry_after_beyond_the_cap_fails_at_once_saying_what_the_server_asked(waits: list[float]) -> None:
    client = Scripted([_Retry("GET /appointments failed with HTTP 429 (x)", 3600, 429)])
    with pytest.raises(AcuityError) as caught:
        client.get("/appointments")
    assert "asked to wait 3600 s (Retry-After)" in str(caught.value)
    assert "300 s a sync may wait (RUNTIME__REQUEST_MAX_RETRY_DELAY)" in str(caught.value)
    assert client.attempts == 1 and waits == []


def test_a_retry_that_would_pass_the_request_deadline_is_not_waited_for(waits: list[float]) -> None:
    client = Scripted([_Retry("GET /orders failed with HTTP 503 (x)", 20, 503)], request_deadline_seconds=10)
    with pytest.raises(AcuityError, match="would pass the 10 s request deadline"):
        client.get("/orders")
    assert waits == []


def test_no_request_starts_after_the_run_deadline() -> None:
    client = Scripted([_Done([])], run_deadline_seconds=0)
    with pytest.raises(AcuityError, match=r"run deadline \(0 s, ACUITY_RUN_DEADLINE\) passed before GET /me"):
        client.get("/me")
    assert client.attempts == 0


@pytest.mark.parametrize(
    ("location", "follows"),
    [
        ("/api/v1/clients?page=2", True),
        ("https://acuityscheduling.com/api/v1/other", True),
        ("https://ACUITYSCHEDULING.com:443/api/v1/x", True),
        ("http://acuityscheduling.com/api/v1/x", False),  # a downgrade would send the key in clear
        ("https://evil.example:8443/steal", False),
        ("https://user:pw@evil.example/steal", False),
        ("https://acuityscheduling.com.evil.example/", False),
    ],
)
def test_redirects_are_followed_only_within_the_api_origin(location: str, follows: bool) -> None:
    client = make_client()
    redirect = response(302, headers={"Location": location})
    if follows:
        assert client._redirect_target("/clients", redirect).lower().startswith("https://acuityscheduling.com")
        return
    with pytest.raises(AcuityResponseError) as caught:
        client._redirect_target("/clients", redirect)
    text = str(caught.value)
    assert "refusing to send credentials off acuityscheduling.com" in text and "pw" not in text and KEY not in text


def test_the_retry_policy_is_read_from_dlts_runtime_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNTIME__REQUEST_MAX_ATTEMPTS", "3")
    monkeypatch.setenv("RUNTIME__REQUEST_MAX_RETRY_DELAY", "7.5")
    policy = RetryPolicy.from_dlt()
    assert (policy.max_attempts, policy.max_delay) == (3, 7.5)
    assert [POLICY.backoff(n) for n in (1, 2, 3, 10)] == [1, 2, 4, 300]


def test_an_answer_read_by_the_exact_parser_is_announced_once() -> None:
    announced: list[str] = []
    client = make_client(announced)
    deadline = _Deadline(client_module.time.monotonic(), 300, float("inf"), 3600)
    outcome = client._answer("/orders", response(200, b'[{"id": 1, "total": 1e309}]'), deadline)
    assert isinstance(outcome, _Done) and math.isinf(outcome.value[0]["total"])
    assert len(announced) == 1 and announced[0].startswith("GET /orders answered values the fast JSON parser")
    client._answer("/orders", response(200, b'[{"id": 1, "total": "1.00"}]'), deadline)
    assert len(announced) == 1, "an ordinary answer says nothing"
