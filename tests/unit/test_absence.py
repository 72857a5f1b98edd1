"""Absence is not deletion (extract/absence.py): what a read did not return is retired only once Acuity confirms it
deleted, within the run's confirmation budget and never as a large share of what the read covered."""

from __future__ import annotations

import pyarrow as pa
import pytest

from extract.absence import SHARE_FLOOR, Budget, confirm, contains, missing
from extract.errors import AcuityNotFoundError

pytestmark = pytest.mark.unit


def acuity(existing: dict[int, dict]) -> object:
    def fetch(key: int) -> dict:
        if key not in existing:
            raise AcuityNotFoundError(f"GET /appointments/{key} returned HTTP 404")
        return existing[key]

    return fetch


def test_what_the_warehouse_held_and_the_read_did_not_return_is_missing() -> None:
    prior = pa.array([1, 2, 3, 4], pa.int64())
    assert missing(prior, [2, 4, 9]) == [1, 3]
    assert missing(pa.array([], pa.int64()), [1]) == []
    assert contains(prior, [4, 5, None]) == [True, False, False]


def test_an_answer_loads_as_it_is_now_and_a_404_retires() -> None:
    budget = Budget(10)
    outcome = confirm("appointments", [1, 2, 3], 100, budget, 50, acuity({2: {"id": 2, "datetime": "moved"}}))
    assert (outcome.absent, outcome.found, outcome.retired, outcome.held) == (
        3,
        [{"id": 2, "datetime": "moved"}],
        [1, 3],
        [],
    )
    assert outcome.reason is None and budget.remaining == 7


def test_more_to_confirm_than_the_budget_holds_everything_and_asks_nothing() -> None:
    asked: list[int] = []

    def fetch(key: int) -> dict:
        asked.append(key)
        return {}

    budget = Budget(2)
    outcome = confirm("orders", [1, 2, 3], 100, budget, 50, fetch)
    assert outcome.held == [1, 2, 3] and outcome.retired == outcome.found == [] and asked == []
    assert "ACUITY_CONFIRM_BUDGET" in outcome.reason and budget.remaining == 2


def test_deletions_of_a_large_share_are_held_but_a_small_account_losing_a_few_is_not() -> None:
    gone = list(range(SHARE_FLOOR))
    outcome = confirm("appointments", gone, 2 * SHARE_FLOOR - 1, Budget(100), 50, acuity({}))
    assert outcome.held == gone and outcome.retired == [] and "ACUITY_RETIRE_SHARE (50%)" in outcome.reason
    outcome = confirm("appointments", gone, 2 * SHARE_FLOOR, Budget(100), 50, acuity({}))
    assert outcome.retired == gone and outcome.held == []  # exactly half: retired
    few = list(range(SHARE_FLOOR - 1))
    assert confirm("appointments", few, len(few), Budget(100), 50, acuity({})).retired == few  # all, but few
