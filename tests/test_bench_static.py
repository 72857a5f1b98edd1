"""The benchmark's fast server answers exactly like the sandbox it was captured from, so a floor fetched from it and
a sync run against it measure the same data the sandbox would serve, only without the sandbox's rendering cost."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest
import requests
from helpers import API_KEY, AS_OF, USER_ID

from bench import static
from sandbox import SandboxServer, build_account


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory):
    account = build_account(scenario="seed", seed=42, as_of=AS_OF)
    cache = tmp_path_factory.mktemp("static") / "seed"
    with SandboxServer({USER_ID: (API_KEY, account)}, rate_limit=False) as sandbox:
        static.capture(sandbox.base_url, (USER_ID, API_KEY), cache)
        snapshot = static.Snapshot.load(cache)
        with static.StaticAcuity(snapshot, USER_ID, API_KEY, rate_limit=False) as fast:
            yield sandbox, fast, cache


def get(base_url: str, endpoint: str, params: dict[str, str], auth: tuple[str, str] = (USER_ID, API_KEY)) -> Any:
    response = requests.get(f"{base_url}/{endpoint}", params=params, auth=auth, timeout=30)
    return response.status_code, response.json()


def test_every_appointment_query_the_paging_uses_gets_the_sandboxs_answer(servers) -> None:
    sandbox, fast, _ = servers
    queries = itertools.product(
        ["", "2025-06-01", "2026-11-20"],
        ["", "2026-11-25", "2027-03-01"],
        ["", "7", "5000"],
        ["", "ASC", "DESC"],
        [{}, {"showall": "true"}, {"canceled": "true"}],
    )
    for low, high, most, direction, status in queries:
        params = {"minDate": low, "maxDate": high, "max": most, "direction": direction, **status}
        params = {k: v for k, v in params.items() if v}
        assert get(fast.base_url, "appointments", params) == get(sandbox.base_url, "appointments", params), params


@pytest.mark.parametrize(
    ("endpoint", "params"),
    [
        ("orders", {"max": "10"}),
        ("orders", {}),
        ("clients", {}),
        ("me", {}),
        ("calendars", {}),
        ("appointment-types", {}),
    ],
)
def test_the_other_lists_are_the_sandboxs(servers, endpoint: str, params: dict[str, str]) -> None:
    sandbox, fast, _ = servers
    assert get(fast.base_url, endpoint, params) == get(sandbox.base_url, endpoint, params)


def test_a_wrong_key_gets_acuitys_401(servers) -> None:
    _, fast, _ = servers
    status, body = get(fast.base_url, "me", {}, auth=(USER_ID, "wrong"))
    assert status == 401 and body["error"] == "unauthorized"


def test_the_capture_is_complete_and_marked_so(servers) -> None:
    _, fast, cache = servers
    assert (cache / "complete").exists()
    assert len(fast.snapshot.appointments) == len(Path(cache / "appointments.jsonl").read_bytes().splitlines())


def test_the_limit_admits_ten_in_any_sliding_second_and_refuses_the_eleventh() -> None:
    limit = static.SlidingSecond()
    assert [limit.admit() for _ in range(11)] == [True] * 10 + [False]
