"""Paging without paging, against an in-memory Acuity: complete, conservative with bad input, and never looping.

``FakeAcuity`` behaves like Acuity where the paging depends on it: rows filtered on their date, sorted by start
instant, silently truncated at ``max``; it can ignore ``minDate`` and mangle responses. Which zone it dates rows in for
``minDate``/``maxDate`` is its ``date_zone``: each row's own (the calendar's, the sandbox's default), UTC, or a fixed
account zone, since Acuity does not say.
"""

from __future__ import annotations

import itertools
import json
import random
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from typing import Any

import pytest

import extract.paging as paging
from extract.errors import AcuityResponseError
from extract.paging import (
    DEFAULT_PAGE_CEILING,
    EDGE_DAYS,
    read_all_orders,
    read_appointment_window,
)

pytestmark = pytest.mark.unit

FIRST, LAST = date(2025, 1, 1), date(2025, 3, 31)
Row = dict[str, Any]


def appointment(key: int, start: datetime) -> Row:
    """An Acuity-shaped row: ``datetime`` local with an offset without colon."""
    return {"id": key, "datetime": start.strftime("%Y-%m-%dT%H:%M:%S%z"), "firstName": f"client {key}"}


def _instant(row: Row) -> tuple[datetime, int]:
    return datetime.fromisoformat(row["datetime"]).astimezone(UTC), row["id"]


def dated_in(zone: tzinfo | None) -> Callable[[Row], str]:
    """The ISO date a server comparing ``minDate`` in ``zone`` gives a row (None: the row's own local date)."""
    if zone is None:
        return lambda row: row["datetime"][:10]
    return lambda row: datetime.fromisoformat(row["datetime"]).astimezone(zone).date().isoformat()


class FakeAcuity:
    def __init__(
        self,
        appointments: list[Row],
        orders: list[Any] | None = None,
        ignore_min_date: bool = False,
        mangle: Callable[[list[Any]], list[Any]] | None = None,
        date_zone: tzinfo | None = None,
    ) -> None:
        self.appointments = sorted(appointments, key=_instant)
        self.orders = orders or []
        self.ignore_min_date = ignore_min_date
        self.mangle = mangle
        self.dated = dated_in(date_zone)
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.sent: set[int] = set()  # ids of every appointment any answer held

    def __call__(self, endpoint: str, params: dict[str, Any]) -> Any:
        self.requests.append((endpoint, dict(params)))
        if endpoint == "/orders":
            return self.orders[: params["max"]]
        assert params["direction"] == "ASC" and params["showall"] == "true"
        low, high = params["minDate"], params["maxDate"]
        picked = [
            row
            for row in self.appointments
            if (self.ignore_min_date or low <= self.dated(row)) and self.dated(row) <= high
        ]
        answer = picked[: params["max"]]
        self.sent.update(row["id"] for row in answer)
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


def on_pad_days(rows: list[Row], first: date = FIRST, last: date = LAST) -> set[int]:
    """Rows dated (locally) on the day before ``first`` or after ``last``: the days a read asks for on top."""
    pad = {(first - timedelta(days=EDGE_DAYS)).isoformat(), (last + timedelta(days=EDGE_DAYS)).isoformat()}
    return {r["id"] for r in rows if r["datetime"][:10] in pad}


def near_the_window(rows: list[Row], first: date = FIRST, last: date = LAST) -> set[int]:
    """Rows dated on a pad day or a day beyond it: what a read reports as edge (another zone's reading sends them)."""
    days = {(first - timedelta(days=n)).isoformat() for n in (1, 2)} | {
        (last + timedelta(days=n)).isoformat() for n in (1, 2)
    }
    return {r["id"] for r in rows if r["datetime"][:10] in days}


def read(
    server: FakeAcuity,
    page_size: int,
    ceiling: int = DEFAULT_PAGE_CEILING,
    expected: int | None = 0,
    first: date = FIRST,
    last: date = LAST,
) -> tuple[list, list, list, list]:
    """One window read: (yielded, duplicates, outside, edge). By default the first ``max`` is ``page_size``
    (``expected=0``) so truncation is exercised."""
    duplicates: list[Any] = []
    outside: list[Any] = []
    edge: list[Any] = []
    reader = read_appointment_window(
        server, first, last, page_size, duplicates, outside, edge=edge, expected=expected, page_ceiling=ceiling
    )
    return list(reader), duplicates, outside, edge


# --- completeness --------------------------------------------------------------------------------------------------


def test_a_raised_ceiling_never_asks_for_more_appointments_than_one_answer_may_hold(monkeypatch) -> None:
    """The ceiling is raised for accounts with many orders; appointments stay within the memory bound per answer."""
    monkeypatch.setattr(paging, "APPOINTMENTS_PER_ANSWER", 50)
    data = spread(300, FIRST, LAST)
    server = FakeAcuity(data)

    rows, *_ = read(server, 10, ceiling=1_000_000, expected=None)

    assert sorted(ids(rows)) == sorted(in_window(data))
    assert max(params["max"] for _, params in server.requests) == 50


@pytest.mark.parametrize(("page_size", "ceiling"), [(1, 16), (7, 30), (50, 50), (1000, DEFAULT_PAGE_CEILING)])
@pytest.mark.parametrize("expected", [0, None, 10_000])
def test_every_appointment_in_the_window_is_read_once_whatever_the_sizes(
    page_size: int, ceiling: int, expected: int | None
) -> None:
    data = spread(400, FIRST - timedelta(days=5), LAST + timedelta(days=5))
    server = FakeAcuity(data)

    rows, duplicates, outside, edge = read(server, page_size, ceiling, expected)

    assert sorted(r["id"] for r in rows) == sorted(in_window(data))
    assert duplicates == [] and outside == []
    assert sorted(r["id"] for r in edge) == sorted(on_pad_days(data)), "the pad days are read and reported, once"


def test_a_server_ignoring_min_date_still_gives_the_window_and_reports_what_lies_before_it() -> None:
    data = spread(300, FIRST - timedelta(days=30), LAST)
    server = FakeAcuity(data, ignore_min_date=True)

    rows, _, outside, edge = read(server, 40, ceiling=1000)

    assert sorted(r["id"] for r in rows) == sorted(in_window(data))
    before = {r["id"] for r in data} - in_window(data) - near_the_window(data)
    assert sorted(r["id"] for r in outside) == sorted(before), "each out-of-window id reported exactly once"
    assert sorted(r["id"] for r in edge) == sorted(near_the_window(data))


# --- whichever zone minDate/maxDate compare in (issue 15) -----------------------------------------------------------

# Acuity does not say: the row's own (calendar) zone, UTC, or the account's. Two account zones, either side of UTC;
# each is within 24 hours of every zone ``spread`` and ``near_the_edges`` use, as a real account and its calendars are.
READINGS = {
    "calendar": None,
    "UTC": UTC,
    "account -05:00": timezone(timedelta(hours=-5)),
    "account +09:00": timezone(timedelta(hours=9)),
}


def near_the_edges(first: date = FIRST, last: date = LAST) -> list[Row]:
    """Starts whose date in UTC or an account zone is a day off their own, on the window's first and last days, the
    pad days and the days beyond them: 00:30 at +14:00 and at +01:00 (London in summer), 21:30 at -08:00 (a west-coast
    evening), 23:30 at -12:00."""
    starts = [(time(0, 30), 14), (time(0, 30), 1), (time(21, 30), -8), (time(23, 30), -12)]
    days = [first - timedelta(days=2), first - timedelta(days=1), first, last, last + timedelta(days=1)]
    days.append(last + timedelta(days=2))
    return [
        appointment(10_000 + n, datetime.combine(day, at, timezone(timedelta(hours=offset))))
        for n, (day, (at, offset)) in enumerate(itertools.product(days, starts))
    ]


def ids(rows: list[Any]) -> list[Any]:
    return [row["id"] for row in rows]


@pytest.mark.parametrize("reading", [z for z in READINGS.values() if z is not None], ids=list(READINGS)[1:])
def test_a_read_of_exactly_the_window_would_miss_appointments_under_the_other_readings(reading: tzinfo) -> None:
    """The premise of the pad: asked for exactly [first, last], such a server leaves out some of the window's
    appointments (at both ends) and sends some dated outside it."""
    data = near_the_edges()
    server = FakeAcuity(data, date_zone=reading)

    exact = server("/appointments", {"minDate": FIRST.isoformat(), "maxDate": LAST.isoformat(), "max": 1000,
                                     "direction": "ASC", "showall": "true"})  # fmt: skip

    missed = {row["datetime"][:10] for row in data if row["id"] in in_window(data) - set(ids(exact))}
    assert missed == {FIRST.isoformat(), LAST.isoformat()}
    assert set(ids(exact)) - in_window(data)


@pytest.mark.parametrize("reading", READINGS.values(), ids=READINGS)
@pytest.mark.parametrize(("page_size", "ceiling"), [(1, 16), (5, 40), (1000, DEFAULT_PAGE_CEILING)])
def test_every_appointment_of_the_window_is_read_whatever_zone_min_date_compares_in(
    reading: tzinfo | None, page_size: int, ceiling: int
) -> None:
    """Yielded: exactly the window's appointments (local dates). Each id the server sent is in exactly one place:
    yielded, edge (dated on a pad day or the day beyond it) or outside (dated further out)."""
    data = spread(300, FIRST - timedelta(days=4), LAST + timedelta(days=4)) + near_the_edges()
    server = FakeAcuity(data, date_zone=reading)

    rows, duplicates, outside, edge = read(server, page_size, ceiling)

    assert sorted(ids(rows)) == sorted(in_window(data))
    assert set(ids(edge)) <= near_the_window(data)
    assert not set(ids(outside)) & (in_window(data) | near_the_window(data))
    assert sorted([*ids(rows), *ids(edge), *ids(outside)]) == sorted(server.sent) and duplicates == []
    if reading is None:  # the calendar reading sends the pad days whole, and nothing beyond them
        assert sorted(ids(edge)) == sorted(on_pad_days(data)) and outside == []


@pytest.mark.parametrize("reading", READINGS.values(), ids=READINGS)
def test_the_pad_days_cost_no_request_when_last_runs_count_included_them(reading: tzinfo | None) -> None:
    """The daily case (extract/source.py): the count last seen is what the padded answer held, yielded plus edge."""
    data = spread(3000, FIRST - timedelta(days=5), LAST + timedelta(days=5)) + near_the_edges()
    rows, _, _, edge = read(FakeAcuity(data, date_zone=reading), 100, expected=None)
    server = FakeAcuity(data, date_zone=reading)

    again, *_ = read(server, 100, expected=len(rows) + len(edge))

    assert sorted(ids(again)) == sorted(in_window(data)) and len(server.requests) == 1


# --- bad elements never crash and never vanish ----------------------------------------------------------------------

JUNK: list[Any] = [None, "oops", 42, 1.5, True, [1, 2], {}, {"id": None, "datetime": "2025-02-01T10:00:00+0000"}]


@pytest.mark.parametrize("junk", JUNK, ids=[json.dumps(j) for j in JUNK])
@pytest.mark.parametrize(("page_size", "ceiling"), [(5, 20), (500, 500)])
def test_an_element_that_is_not_an_identifiable_object_is_passed_on_not_fatal(
    junk: Any, page_size: int, ceiling: int
) -> None:
    data = spread(60, FIRST, LAST)
    server = FakeAcuity(data, mangle=lambda rows: [*rows[:2], junk, *rows[2:]] if rows else rows)

    rows, *_ = read(server, page_size, ceiling)

    passed_on = [r for r in rows if _is_unidentified(r)]
    assert passed_on == [junk], "yielded for the caller to quarantine, once although several responses repeat it"
    assert sorted(r["id"] for r in rows if not _is_unidentified(r)) == sorted(in_window(data))


def _is_unidentified(row: Any) -> bool:
    return not isinstance(row, dict) or row.get("id") is None


def test_several_identical_junk_elements_in_one_response_are_each_passed_on() -> None:
    server = FakeAcuity(spread(10, FIRST, LAST), mangle=lambda rows: [None, None, *rows])

    rows, *_ = read(server, 1000)

    assert rows.count(None) == 2


def test_an_id_repeated_within_one_response_goes_to_duplicates() -> None:
    data = spread(30, FIRST, LAST)
    server = FakeAcuity(data, mangle=lambda rows: [*rows[:3], *rows])

    rows, duplicates, *_ = read(server, 1000)

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

    rows, _, outside, _ = read(server, 21 if full else 1000, ceiling=42 if full else 1000)

    assert outside == [odd]
    assert sorted(r["id"] for r in rows) == sorted(in_window(data))


def test_unparseable_datetimes_never_move_the_cursor_or_crash() -> None:
    data = spread(40, FIRST, LAST)
    junk = [{"id": 500 + n, "datetime": value} for n, value in enumerate(["soon", 17, None, "2025-02-30T10:00:00"])]
    naive = {"id": 600, "datetime": "2025-02-01T10:00:00"}
    server = FakeAcuity(data, mangle=lambda rows: [*rows[:5], *junk, naive, *rows[5:]])

    rows, _, outside, _ = read(server, 10, ceiling=40)

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

    ignore_min_date = rng.random() < 0.3
    reading = rng.choice(list(READINGS.values()))
    server = FakeAcuity(data, ignore_min_date=ignore_min_date, mangle=mangle, date_zone=reading)
    page_size = rng.choice([1, 3, 10, 80, 1000])
    ceiling = 1000 if ignore_min_date else max(page_size, 40)

    rows, duplicates, outside, edge = read(server, page_size, ceiling, rng.choice([0, None, 50]))

    identified = [r for r in rows if not _is_unidentified(r)]
    assert sorted(r["id"] for r in identified) == sorted(in_window(data))
    everything = [json.dumps(e, sort_keys=True) for e in [*rows, *duplicates, *outside, *edge]]
    for element in sent:  # nothing sent is unaccounted for: reported somewhere, or an id already yielded
        text = json.dumps(element, sort_keys=True)
        assert text in everything or (isinstance(element, dict) and element.get("id") in in_window(data))


def test_a_response_that_is_not_a_list_fails_in_one_line() -> None:
    with pytest.raises(AcuityResponseError, match=r"^/appointments returned dict, expected a list$"):
        list(read_appointment_window(lambda endpoint, params: {"oops": 1}, FIRST, LAST, 10))


# --- adaptive page size (issue 16) ---------------------------------------------------------------------------------


def asked(server: FakeAcuity, endpoint: str = "/appointments") -> list[int]:
    return [params["max"] for name, params in server.requests if name == endpoint]


def test_without_a_hint_one_request_at_the_ceiling_reads_a_window_that_fits() -> None:
    server = FakeAcuity(spread(3000, FIRST, LAST))

    rows, *_ = read(server, 1000, expected=None)

    # the ceiling, within the memory bound of one appointments answer
    assert len(rows) == 3000 and asked(server) == [min(DEFAULT_PAGE_CEILING, paging.APPOINTMENTS_PER_ANSWER)]


@pytest.mark.parametrize("count", [10_500, 25_000, 41_000])
def test_a_window_larger_than_the_ceiling_takes_about_the_minimum_number_of_requests(count: int) -> None:
    ceiling = 10_000
    data = spread(count, date(2023, 1, 1), date(2025, 12, 31))
    server = FakeAcuity(data)

    rows, *_ = read(server, 1000, ceiling, None, first=date(2023, 1, 1), last=date(2025, 12, 31))

    assert len(rows) == count
    minimum = -(-count // ceiling)
    assert len(server.requests) <= max(minimum + 1, 1.1 * minimum)
    assert max(asked(server)) == ceiling


@pytest.mark.parametrize("growth", [1.0, 1.2, 3.0])
def test_the_count_last_seen_sizes_the_first_request(growth: float) -> None:
    """The daily case: last run's count (the account may have grown since) asks for about what is there."""
    last_count = 2000
    server = FakeAcuity(spread(int(last_count * growth), FIRST, LAST))

    rows, *_ = read(server, 100, expected=last_count)

    assert len(rows) == int(last_count * growth)
    assert last_count < asked(server)[0] <= last_count * 1.25 + 100
    assert len(server.requests) == (1 if growth < 1.25 else 2), "a stale count costs one request, not a walk"


def test_a_crowded_day_grows_max_until_it_fits_and_the_rest_follows() -> None:
    crowded = [appointment(n, datetime(2025, 2, 1, 9, 0, tzinfo=UTC)) for n in range(1, 301)]
    data = spread(200, FIRST, LAST) + [{**r, "id": 10_000 + r["id"]} for r in crowded]
    server = FakeAcuity(data)

    rows, *_ = read(server, 10, ceiling=1000)

    assert sorted(r["id"] for r in rows) == sorted(in_window(data))
    sizes = asked(server)
    assert sizes == sorted(sizes), "max never shrinks within a read"
    assert len(server.requests) <= 10


def test_a_day_fuller_than_the_ceiling_fails_in_one_line_instead_of_looping() -> None:
    data = [appointment(n, datetime(2025, 2, 1, 9, 0, tzinfo=UTC)) for n in range(1, 101)]
    server = FakeAcuity(data)

    with pytest.raises(AcuityResponseError, match=r"^/appointments stays full at max=64 .*ACUITY_PAGE_CEILING$"):
        read(server, 1, ceiling=64)
    assert len(server.requests) <= 10


def test_a_server_ignoring_min_date_beyond_the_ceiling_fails_in_one_line() -> None:
    server = FakeAcuity(spread(300, FIRST, LAST), ignore_min_date=True)

    with pytest.raises(AcuityResponseError, match="ACUITY_PAGE_CEILING"):
        read(server, 10, ceiling=50)
    assert len(server.requests) <= 100


@pytest.mark.parametrize(("page_size", "ceiling"), [(0, 100), (-1, 100), (10, 0), (10, -5), (0, 0)])
def test_sizes_that_cannot_grow_never_loop(page_size: int, ceiling: int) -> None:
    """Settings are validated elsewhere; paging still clamps them to at least 1 and ends: complete or one line."""
    data = spread(50, FIRST, LAST)
    server = FakeAcuity(data, orders=[{"id": n} for n in range(50)])

    try:
        rows, *_ = read(server, page_size, ceiling)
        assert sorted(r["id"] for r in rows) == sorted(in_window(data))
    except AcuityResponseError as error:
        assert "\n" not in str(error) and ceiling <= 1
    assert len(server.requests) <= (LAST - FIRST).days + 1 + 2 * EDGE_DAYS + 10
    assert all(size >= 1 for size in asked(server))


@pytest.mark.parametrize("seed", range(30))
def test_any_account_is_read_completely_or_fails_in_one_line_within_the_bound(seed: int) -> None:
    rng = random.Random(1000 + seed)
    data = spread(rng.randint(0, 3000), FIRST - timedelta(days=3), LAST + timedelta(days=3), seed)
    crowd = rng.randint(0, 150)
    data += [appointment(50_000 + n, datetime(2025, 2, 14, 18, 0, tzinfo=UTC)) for n in range(crowd)]
    server = FakeAcuity(data, date_zone=rng.choice(list(READINGS.values())))
    ceiling = rng.choice([40, 200, 1000, DEFAULT_PAGE_CEILING])
    expected = rng.choice([None, 0, len(data) // 2, len(data), len(data) * 3])

    try:
        rows, *_ = read(server, rng.choice([1, 10, 100]), ceiling, expected)
    except AcuityResponseError as error:
        assert ceiling < crowd and "ACUITY_PAGE_CEILING" in str(error)
    else:
        assert sorted(r["id"] for r in rows) == sorted(in_window(data))
    days_asked = (LAST - FIRST).days + 1 + 2 * EDGE_DAYS  # the window and a pad day on each side
    assert len(server.requests) <= days_asked + ceiling.bit_length() + 1
    assert asked(server) == sorted(asked(server)) and max(asked(server)) <= ceiling


# --- orders ----------------------------------------------------------------------------------------------------------


def test_orders_are_returned_as_sent_junk_included() -> None:
    orders = [{"id": n} for n in range(30)] + [None, "x"]
    server = FakeAcuity([], orders=orders)

    assert read_all_orders(server, 7, page_ceiling=100) == orders


@pytest.mark.parametrize(
    ("expected", "ceiling", "sizes"),
    [
        (None, DEFAULT_PAGE_CEILING, [DEFAULT_PAGE_CEILING]),  # nothing known: one request at the ceiling
        (480, DEFAULT_PAGE_CEILING, [700]),  # last run's count with a margin: one request
        (100, DEFAULT_PAGE_CEILING, [225, DEFAULT_PAGE_CEILING]),  # stale count: full, then the ceiling
        (100, 600, [225, 600]),
    ],
)
def test_orders_take_one_request_usually_and_two_at_most(expected: int | None, ceiling: int, sizes: list[int]) -> None:
    server = FakeAcuity([], orders=[{"id": n} for n in range(500)])

    orders = read_all_orders(server, 100, expected=expected, page_ceiling=ceiling)

    assert len(orders) == 500 and asked(server, "/orders") == sizes


def test_orders_full_at_the_ceiling_fail_in_one_line() -> None:
    server = FakeAcuity([], orders=[{"id": n} for n in range(500)])

    with pytest.raises(AcuityResponseError, match=r"^/orders returned a full answer at max=400.*ACUITY_PAGE_CEILING$"):
        read_all_orders(server, 100, page_ceiling=400)
    assert asked(server, "/orders") == [400]


@pytest.mark.parametrize("page_size", [0, -1])
def test_an_orders_max_that_cannot_grow_never_loops(page_size: int) -> None:
    server = FakeAcuity([], orders=[{"id": n} for n in range(50)])

    assert len(read_all_orders(server, page_size, expected=0, page_ceiling=100)) == 50
    assert asked(server, "/orders") == [1, 100]


@pytest.mark.parametrize("expected", ["2000", 2000.5, -3])
def test_a_count_hint_that_is_not_a_count_asks_for_the_ceiling(expected: Any) -> None:
    server = FakeAcuity(spread(30, FIRST, LAST))

    rows, *_ = read(server, 10, ceiling=500, expected=expected)

    assert len(rows) == 30 and asked(server) == [500]


def test_ids_yielded_by_earlier_answers_are_known_compactly_whatever_their_type() -> None:
    """The set of yielded ids that outlives each answer keeps ints in Arrow; 1, "1", True and 2**70 stay distinct."""
    yielded = paging._Yielded()
    first = [{"id": 1}, {"id": "1"}, {"id": 2**70}, {"id": -(2**63)}, "junk", {"id": None}]
    yielded.next_answer(first)
    for row in first[:4]:
        key = paging._identity(row)
        assert key not in yielded
        yielded.add(key)
    second = [{"id": 1}, {"id": True}, {"id": "1"}, {"id": 2**70}, {"id": -(2**63)}, {"id": 2}]
    yielded.next_answer(second)
    assert [paging._identity(row) in yielded for row in second] == [True, False, True, True, True, False]
