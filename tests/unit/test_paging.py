"""Paging without paging, against an in-memory Acuity: complete, conservative with bad input, and never looping.

``FakeAcuity`` behaves like Acuity where the paging depends on it: rows filtered on their local date, sorted by start
instant, silently truncated at ``max``; it can ignore ``minDate`` and mangle responses.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest

from extract.errors import AcuityResponseError
from extract.paging import read_all_orders, read_appointment_window

pytestmark = pytest.mark.unit

FIRST, LAST = date(2025, 1, 1), date(2025, 3, 31)
Row = dict[str, Any]


def appointment(key: int, start: datetime) -> Row:
    """An Acuity-shaped row: ``datetime`` local with an offset without colon."""
    return {"id": key, "datetime": start.strftime("%Y-%m-%dT%H:%M:%S%z"), "firstName": f"client {key}"}


def _instant(row: Row) -> tuple[datetime, int]:
    return datetime.fromisoformat(row["datetime"]).astimezone(UTC), row["id"]


class FakeAcuity:
    def __init__(
        self,
        appointments: list[Row],
        orders: list[Any] | None = None,
        ignore_min_date: bool = False,
        mangle: Callable[[list[Any]], list[Any]] | None = None,
    ) -> None:
        self.appointments = sorted(appointments, key=_instant)
        self.orders = orders or []
        self.ignore_min_date = ignore_min_date
        self.mangle = mangle
        self.requests: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, endpoint: str, params: dict[str, Any]) -> Any:
        self.requests.append((endpoint, dict(params)))
        if endpoint == "/orders":
            return self.orders[: params["max"]]
        assert params["direction"] == "ASC" and params["showall"] == "true"
        low, high = params["minDate"], params["maxDate"]
        picked = [
            row
            for row in self.appointments
            if (self.ignore_min_date or low <= row["datetime"][:10]) and row["datetime"][:10] <= high
        ]
        answer = picked[: params["max"]]
        return self.mangle(answer) if self.mangle else answer


def spread(count: int, first: date, last: date, seed: int = 1) -> list[Row]:
    """``count`` appointments over [first, last] in local time, in zones from -12:00 to +14:00."""
    rng = random.Random(seed)
    days = (last - first).days + 1
    rows = []
    for key in range(1, count + 1):
        zone = timezone(timedelta(minutes=30 * rng.randint(-24, 28)))
        day = first + timedelta(days=rng.randrange(days))
        rows.append(appointment(key, datetime(day.year, day.month, day.day, rng.randint(0, 23), 0, tzinfo=zone)))
    return rows


def in_window(rows: list[Row], first: date = FIRST, last: date = LAST) -> set[int]:
    return {r["id"] for r in rows if first.isoformat() <= r["datetime"][:10] <= last.isoformat()}


def read(server: FakeAcuity, page_size: int, first: date = FIRST, last: date = LAST) -> tuple[list, list, list]:
    duplicates: list[Any] = []
    outside: list[Any] = []
    rows = list(read_appointment_window(server, first, last, page_size, duplicates, outside))
    return rows, duplicates, outside


# --- completeness --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("page_size", [1, 7, 50, 1000])
def test_every_appointment_in_the_window_is_read_once_whatever_the_page_size(page_size: int) -> None:
    data = spread(400, FIRST - timedelta(days=5), LAST + timedelta(days=5))
    server = FakeAcuity(data)

    rows, duplicates, outside = read(server, page_size)

    assert sorted(r["id"] for r in rows) == sorted(in_window(data))
    assert duplicates == [] and outside == []


def test_a_server_ignoring_min_date_still_gives_the_window_and_reports_what_lies_before_it() -> None:
    data = spread(300, FIRST - timedelta(days=30), LAST)
    server = FakeAcuity(data, ignore_min_date=True)

    rows, _, outside = read(server, 40)

    assert sorted(r["id"] for r in rows) == sorted(in_window(data))
    before = {r["id"] for r in data} - in_window(data)
    assert sorted(r["id"] for r in outside) == sorted(before), "each out-of-window id reported exactly once"


# --- bad elements never crash and never vanish ----------------------------------------------------------------------

JUNK: list[Any] = [None, "oops", 42, 1.5, True, [1, 2], {}, {"id": None, "datetime": "2025-02-01T10:00:00+0000"}]


@pytest.mark.parametrize("junk", JUNK, ids=[json.dumps(j) for j in JUNK])
@pytest.mark.parametrize("page_size", [5, 500])
def test_an_element_that_is_not_an_identifiable_object_is_passed_on_not_fatal(junk: Any, page_size: int) -> None:
    data = spread(60, FIRST, LAST)
    server = FakeAcuity(data, mangle=lambda rows: [*rows[:2], junk, *rows[2:]] if rows else rows)

    rows, _, _ = read(server, page_size)

    passed_on = [r for r in rows if _is_unidentified(r)]
    assert passed_on == [junk], "yielded for the caller to quarantine, once although several responses repeat it"
    assert sorted(r["id"] for r in rows if not _is_unidentified(r)) == sorted(in_window(data))


def _is_unidentified(row: Any) -> bool:
    return not isinstance(row, dict) or row.get("id") is None


def test_several_identical_junk_elements_in_one_response_are_each_passed_on() -> None:
    server = FakeAcuity(spread(10, FIRST, LAST), mangle=lambda rows: [None, None, *rows])

    rows, _, _ = read(server, 1000)

    assert rows.count(None) == 2


def test_an_id_repeated_within_one_response_goes_to_duplicates() -> None:
    data = spread(30, FIRST, LAST)
    server = FakeAcuity(data, mangle=lambda rows: [*rows[:3], *rows])

    rows, duplicates, _ = read(server, 1000)

    assert len(rows) == 30 and [r["id"] for r in duplicates] == [r["id"] for r in server.appointments[:3]]


@pytest.mark.parametrize(
    "start",
    ["0001-01-01T00:00:00+0100", "0001-01-01T00:00:00-1200", "9999-12-31T23:59:59-1200", "9999-12-31T23:59:59+1400"],
)
@pytest.mark.parametrize("full", [True, False])
@pytest.mark.parametrize("where", [0, 3, -1])
def test_a_datetime_at_the_ends_of_the_calendar_is_reported_not_an_overflow(start: str, full: bool, where: int) -> None:
    """Wherever the server puts it, it neither raises OverflowError nor ends the read before the window is done."""
    data = spread(20, FIRST, LAST)
    odd = {"id": 999, "datetime": start}

    def mangle(rows: list[Any]) -> list[Any]:
        out = list(rows)
        out.insert(len(out) if where == -1 else where, odd)
        return out

    server = FakeAcuity(data, mangle=mangle)

    rows, _, outside = read(server, page_size=21 if full else 1000)

    assert outside == [odd]
    assert sorted(r["id"] for r in rows) == sorted(in_window(data))


def test_unparseable_datetimes_never_move_the_cursor_or_crash() -> None:
    data = spread(40, FIRST, LAST)
    junk = [{"id": 500 + n, "datetime": value} for n, value in enumerate(["soon", 17, None, "2025-02-30T10:00:00"])]
    naive = {"id": 600, "datetime": "2025-02-01T10:00:00"}
    server = FakeAcuity(data, mangle=lambda rows: [*rows[:5], *junk, naive, *rows[5:]])

    rows, _, outside = read(server, 10)

    ids = Counter(r["id"] for r in rows)
    assert set(ids) == in_window(data) | {500, 501, 502, 503, 600} and max(ids.values()) == 1
    assert outside == []


@pytest.mark.parametrize("seed", range(20))
def test_conservation_every_element_sent_is_yielded_reported_or_a_repeat(seed: int) -> None:
    """Random accounts, page sizes and faults: each element of each response lands in exactly one place."""
    rng = random.Random(seed)
    data = spread(rng.randint(0, 200), FIRST - timedelta(days=10), LAST + timedelta(days=10), seed)
    sent: list[Any] = []

    def mangle(rows: list[Any]) -> list[Any]:
        out = list(rows)
        for _ in range(rng.randint(0, 3)):
            out.insert(rng.randint(0, len(out)), rng.choice([None, "x", {"id": None}, *out[:1]]))
        sent.extend(out)
        return out

    server = FakeAcuity(data, ignore_min_date=rng.random() < 0.3, mangle=mangle)

    rows, duplicates, outside = read(server, rng.choice([1, 3, 10, 80, 1000]))

    identified = [r for r in rows if not _is_unidentified(r)]
    assert sorted(r["id"] for r in identified) == sorted(in_window(data))
    everything = [json.dumps(e, sort_keys=True) for e in [*rows, *duplicates, *outside]]
    for element in sent:  # nothing sent is unaccounted for: reported somewhere, or an id already yielded
        text = json.dumps(element, sort_keys=True)
        assert text in everything or (isinstance(element, dict) and element.get("id") in in_window(data))


def test_a_response_that_is_not_a_list_fails_in_one_line() -> None:
    with pytest.raises(AcuityResponseError, match=r"^/appointments returned dict, expected a list$"):
        list(read_appointment_window(lambda endpoint, params: {"oops": 1}, FIRST, LAST, 10))


# --- orders ----------------------------------------------------------------------------------------------------------


def test_orders_are_returned_as_sent_junk_included() -> None:
    orders = [{"id": n} for n in range(30)] + [None, "x"]
    server = FakeAcuity([], orders=orders)

    assert read_all_orders(server, 7) == orders


@pytest.mark.parametrize("first_size", [0, -1])
def test_a_max_that_cannot_grow_never_loops(first_size: int) -> None:
    server = FakeAcuity(spread(50, FIRST, LAST), orders=[{"id": n} for n in range(50)])

    assert len(read_all_orders(server, first_size)) == 50
    rows, _, _ = read(server, first_size)
    assert len(rows) == 50
    assert len(server.requests) < 30
