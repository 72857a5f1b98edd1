"""Reading complete result sets from an API that has no paging.

Acuity silently truncates every list at ``max`` rows and offers no offset or cursor. The only complete reads are:
- appointments: walk a date window in ascending order; when a response is full, everything that sorts before its
  last row is complete, so the next request starts at the first date that could still hold unseen rows;
- orders: no date filter at all, so ask again with a larger ``max`` until the answer is shorter than ``max``.
Neither stops because a response held nothing new (the seed importer's bug): only a short response ends a read.

How much to ask for (issue 16): every request costs a rate-limited round trip, while a large ``max`` costs nothing when
the answer is short. So the first ``max`` is what the read probably holds: the caller's ``expected`` count (the count it
saw last time) with a margin, or the ceiling when there is no such count; after a full answer, the next ``max`` covers
what the rows seen so far project for the rest of the window. ``max`` never exceeds ``page_ceiling`` (Acuity documents
no maximum; other connectors use 100000), nor, for appointments, ``APPOINTMENTS_PER_ANSWER``, and never shrinks within a
read, and every full answer either moves the cursor forward or doubles ``max``: a read takes at most (days asked for +
log2(ceiling) + 1) requests, and a window that stays full at the ceiling without progress fails with a one-line error
instead of looping. ``page_size`` (≥ 1 after clamping) is the smallest ``max`` ever asked and the slack added to
estimates.

Which zone ``minDate``/``maxDate`` compare in (issue 15): Acuity does not say. The sandbox assumes the appointment's
calendar zone (the date its ``datetime`` carries); the account's zone or UTC are as plausible, and under them an
evening start on a west-coast calendar is dated the next day and a small-hours start east of the comparison zone the
day before. So a read of the local dates [first, last] asks for one more day on each side, [first - 1, last + 1]:
whatever the reading, every appointment whose own (local) date is in [first, last] is in the answer, since that date
and its UTC date differ by at most one day (offsets run from -12:00 to +14:00), and so do its calendar's and the
account's dates unless those two zones are more than 24 hours apart (+14:00 Kiritimati and -11:00 Pago Pago are;
no pair of US or European zones is). The two pad days come back in every run under any reading, and they belong to the
neighbouring reads: their rows are reported (``edge``), never loaded, because the caller's scd2 scope is [first,
last], and a row loaded outside its scope would stay current beside the version loaded by the read that owns its
date. Padding costs no request in the usual case (one answer holds the whole window); when answers are full, the
two pad days are two more "days asked for" in the bound above.

Conservation contract of ``read_appointment_window`` (issue 13): every element of every response ends up in exactly
one of these places, so nothing the server sent vanishes without a trace:
- **yielded**: each appointment whose local date is in [first, last], once per id; and every element that cannot be
  identified (``null``, a string, a number, a list, an object without a usable ``id``), so the caller can quarantine
  it. Such elements cannot be matched across the overlapping requests, so identical copies are yielded as many times
  as the most any single response held them;
- **duplicates** (caller's list): extra copies of an id within ONE response, a server fault;
- **edge** (caller's list): an appointment dated on one of the two pad days, first - 1 or last + 1, or a day beyond
  them (what a server comparing in another zone also sends), once per id: expected in every read, not a fault, and
  not this read's to load;
- **outside** (caller's list): an appointment dated further out, beyond [first - 2, last + 2] (a server ignoring
  ``minDate``/``maxDate``, a year-0001 or year-9999 datetime), once per id;
- **silent overlap**: an id already yielded or reported, re-sent because consecutive requests overlap by up to a day.
  This is the only case that is dropped without a report, and it is a repeat, not a record.
No element's content can crash the read: malformed datetimes (including ones whose UTC conversion overflows) only
stop that row from moving the cursor. Only a response that is not a list fails the read.
"""

from __future__ import annotations

import json
import math
from array import array
from collections import Counter
from collections.abc import Callable, Hashable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from extract.errors import AcuityResponseError
from extract.repair import as_int

Fetch = Callable[[str, dict[str, Any]], Any]

# Local time = UTC + offset and offsets run from -12:00 to +14:00: an appointment that starts at or after UTC
# instant T has a date no earlier than the date of T - 12 h in any zone: its calendar's, the account's or UTC, so
# whichever one minDate is compared in.
_MOST_NEGATIVE_OFFSET = timedelta(hours=12)
# Days asked for beyond each end of a window (see "Which zone" above): one covers every reading of minDate/maxDate.
EDGE_DAYS = 1
DEFAULT_PAGE_CEILING = 100_000
# The most appointments asked in one answer, whatever the ceiling: an answer is parsed whole, and 100,000 of the large
# bench account's appointments are 115 MB of JSON and 260 MB of Python objects, both held while it is parsed. At
# 100,000 a 1M-appointment backfill peaked at 1.13 GiB, at 50,000 under 1 GiB (bench/results), for 10 more requests
# (~1 s at 10 req/s). A window can always be split by date; orders cannot, so they alone go up to the ceiling (a
# raised ceiling is for an account with more orders than that: the large account).
APPOINTMENTS_PER_ANSWER = 50_000
_MARGIN = 1.25  # asked for over the expected count: accounts grow, windows move


def parse_acuity_datetime(value: str) -> datetime:
    """Acuity writes ``2013-07-02T10:15:00-0700`` (offset without colon); Python 3.11 parses that form."""
    return datetime.fromisoformat(value)


def read_appointment_window(
    fetch: Fetch,
    first: date,
    last: date,
    page_size: int,
    duplicates: list[Any] | None = None,
    outside: list[Any] | None = None,
    *,
    edge: list[Any] | None = None,
    expected: int | None = None,
    page_ceiling: int = DEFAULT_PAGE_CEILING,
    prepare: Callable[[Any], Any] | None = None,
) -> Iterator[Any]:
    """Yield every appointment (canceled included) whose local date is in [first, last], each id once, whichever
    zone the server compares ``minDate``/``maxDate`` in: the request covers [first - 1, last + 1].

    See the module docstring for where every other element goes; pass ``duplicates``, ``edge`` and ``outside`` lists
    to receive them (without them those elements are only dropped, which a caller that loads data must not accept).
    ``expected``: how many rows the caller thinks the padded window holds (None: unknown, ask for the ceiling).
    ``prepare``: applied to every element of every answer before anything else reads it (the caller's rewrite of
    equivalent shapes to Acuity's canonical form: ``extract.repair.normalise_times``), so every date decision here
    is made on the date that is loaded.
    """
    seen = _Yielded()
    reported: dict[str, set[Hashable]] = {"edge": set(), "outside": set()}
    unidentified: Counter[str] = Counter()  # canonical text -> copies yielded so far
    low, high = first - timedelta(days=EDGE_DAYS), last + timedelta(days=EDGE_DAYS)
    inner, asked = (first.isoformat(), last.isoformat()), (low.isoformat(), high.isoformat())
    # a server comparing in another zone also sends rows dated a day beyond the pad days: expected, so edge too
    zone_slack = ((low - timedelta(days=EDGE_DAYS)).isoformat(), (high + timedelta(days=EDGE_DAYS)).isoformat())
    ceiling = max(1, min(page_ceiling, APPOINTMENTS_PER_ANSWER))
    smallest = min(max(1, page_size), ceiling)
    cursor, size = low, _first_ask(expected, smallest, ceiling)
    while cursor <= high:
        params = {
            "minDate": cursor.isoformat(),
            "maxDate": asked[1],
            "max": size,
            "direction": "ASC",
            "showall": "true",
        }
        rows = fetch("/appointments", params)
        if not isinstance(rows, list):
            raise AcuityResponseError(f"/appointments returned {type(rows).__name__}, expected a list")
        if prepare is not None:
            rows = [prepare(row) for row in rows]
        seen.next_answer(rows)
        in_response: set[Hashable] = set()
        copies: Counter[str] = Counter()
        for row in rows:
            key = _identity(row)
            if key is None:
                text = _canonical(row)
                copies[text] += 1
                if copies[text] > unidentified[text]:
                    unidentified[text] += 1
                    yield row
                continue
            if key in in_response:
                if duplicates is not None:
                    duplicates.append(row)
                continue
            in_response.add(key)
            if not _dated_within(row, inner):
                place, into = ("edge", edge) if _dated_within(row, zone_slack) else ("outside", outside)
                if key not in reported[place]:
                    reported[place].add(key)
                    if into is not None:
                        into.append(row)
                continue
            if key in seen:
                continue
            seen.add(key)
            yield row
        if len(rows) < size:
            return
        next_cursor = _first_incomplete_date(rows, asked)
        if next_cursor is None or next_cursor <= cursor:
            # one span of ~a day holds at least `size` rows: only a larger answer can get past it
            if size >= ceiling:
                raise AcuityResponseError(
                    f"/appointments stays full at max={ceiling} without getting past {cursor.isoformat()}"
                    " (more rows on about one day than the ceiling, or a server ignoring minDate):"
                    " raise ACUITY_PAGE_CEILING"
                )
            size = min(ceiling, size * 2)
        else:
            projected = _projected_rest(rows, cursor, next_cursor, high) + smallest
            size = min(ceiling, max(size, projected))
            cursor = next_cursor
        del rows  # else the next answer is parsed while this one is still held: twice the memory bound


class _Yielded:
    """The ids a read has yielded, kept compact across its answers.

    A Python set of every id held across the answers pins the memory of each answer parsed around it (each small
    object keeps its allocator's page alive): 180 MB more after 300k appointments, measured, which a 1M read cannot
    afford. So the integer ids of earlier answers live in one Arrow int64 array, 8 bytes each, and each answer is
    checked against it once, in bulk, when it arrives; only the few ids it repeats (the overlap) become a set. Ids
    of any other type (a string, an int beyond 64 bits) are rare and kept as they are.
    """

    def __init__(self) -> None:
        self._earlier = pa.array([], pa.int64())
        self._this_answer = array("q")
        self._repeated: set[int] = set()
        self._other: set[Hashable] = set()

    def next_answer(self, rows: list[Any]) -> None:
        """Fold the last answer's ids in and find which of ``rows``' ids an earlier answer yielded."""
        if self._this_answer:
            folded = pa.Array.from_buffers(pa.int64(), len(self._this_answer), [None, pa.py_buffer(self._this_answer)])
            self._earlier = pa.concat_arrays([self._earlier, folded])
            self._this_answer = array("q")
        ids = [key for key in map(_int64_id, rows) if key is not None]
        if not ids or not len(self._earlier):
            self._repeated = set()
            return
        arrived = pa.array(ids, pa.int64())
        self._repeated = set(arrived.filter(pc.is_in(arrived, value_set=self._earlier)).to_pylist())

    def __contains__(self, key: Hashable) -> bool:
        value = _int64_value(key)
        return value in self._repeated if value is not None else key in self._other

    def add(self, key: Hashable) -> None:
        value = _int64_value(key)
        if value is None:
            self._other.add(key)
        else:
            self._this_answer.append(value)


_INT64 = (-(2**63), 2**63 - 1)


def _int64_id(row: Any) -> int | None:
    return _int64_value(_identity(row))


def _int64_value(key: Hashable | None) -> int | None:
    """The id of an ``_identity`` key when it is an int that fits 64 bits (bools are not ints here)."""
    if isinstance(key, tuple) and key[0] == "int" and _INT64[0] <= key[1] <= _INT64[1]:
        return key[1]
    return None


def _first_ask(expected: int | None, smallest: int, ceiling: int) -> int:
    """The first ``max``: the expected count with a margin and slack, or the ceiling when nothing is known."""
    if not isinstance(expected, int) or expected < 0:
        return ceiling  # nothing known (or a state value this version did not write)
    return min(ceiling, max(smallest, math.ceil(expected * _MARGIN) + smallest))


def _projected_rest(rows: list[Any], cursor: date, next_cursor: date, last: date) -> int:
    """Rows the next request will probably return: the rest of the window at the density just read, plus the rows of
    this answer that will be sent again (those from ``next_cursor`` on, and any before ``cursor`` from a server
    ignoring ``minDate``)."""
    low, high = cursor.isoformat(), next_cursor.isoformat()
    done = sum(1 for row in rows if isinstance(row, dict) and low <= str(row.get("datetime") or "")[:10] < high)
    days_done = (next_cursor - cursor).days
    days_left = (last - next_cursor).days + 1
    return math.ceil(done / days_done * days_left * _MARGIN) + (len(rows) - done)


def _identity(row: Any) -> Hashable | None:
    """What makes two copies of a row the same appointment: its ``id``, typed (``1`` and ``1.0`` differ), except that
    the text of an integer is that integer (``"7"`` is 7: the record checks load it as 7).

    None when there is nothing to go by: not an object, no id, or an id that is not a JSON scalar.
    """
    if not isinstance(row, dict):
        return None
    key = row.get("id")
    if key is None or isinstance(key, (dict, list)):
        return None
    if type(key) is str and (number := as_int(key)) is not None:
        return ("int", number)
    return (type(key).__name__, key)


def _canonical(row: Any) -> str:
    return json.dumps(row, sort_keys=True, default=str)


def _dated_within(row: dict[str, Any], window: tuple[str, str]) -> bool:
    """True unless the row's local ISO date is readable and outside the window's ISO dates (an undated row is
    kept)."""
    day = str(row.get("datetime") or "")[:10]
    if len(day) != 10 or day[4] != "-":
        return True
    return window[0] <= day <= window[1]


def _first_incomplete_date(rows: list[Any], window: tuple[str, str]) -> date | None:
    """The earliest local date that may still hold rows the truncated response did not include.

    Taken from the response's LAST identifiable row with a usable start inside the window, in the server's order:
    on an ascending answer that is the latest such row, and a junk element, an id-less row or a row from outside the
    window (year 9999 anywhere) cannot pull the cursor past rows never read. A misplaced one can only hold it back,
    which costs a request, not data.
    """
    for row in reversed(rows):
        if _identity(row) is not None and _dated_within(row, window):
            bound = _earliest_local_date_from(row)
            if bound is not None:
                return bound
    return None


def _earliest_local_date_from(row: Any) -> date | None:
    """The earliest date, in any zone, an appointment starting at or after this row's instant can have (None:
    unknown); so the earliest ``minDate`` that still covers it whichever zone the server compares in.

    The ends of the calendar cannot be shifted by hours: year 0001 moves nothing (``date.min``) and year 9999 says
    the rest lies beyond any window (``date.max``), instead of raising ``OverflowError``.
    """
    if not isinstance(row, dict):
        return None
    try:
        start = parse_acuity_datetime(row["datetime"])
    except (KeyError, TypeError, ValueError):
        return None  # a bad datetime is the models' business (counted there); it cannot move the cursor
    if start.tzinfo is None:
        return None  # no offset, no instant: it cannot be placed in the ascending order
    try:
        return (start.astimezone(UTC) - _MOST_NEGATIVE_OFFSET).date()
    except OverflowError:
        return date.min if start.year == date.min.year else date.max


def read_all_orders(
    fetch: Fetch, page_size: int, *, expected: int | None = None, page_ceiling: int = DEFAULT_PAGE_CEILING
) -> list[Any]:
    """All orders: ``/orders`` only takes ``max``, so a full answer is asked again at the ceiling (two requests at
    most); a full answer at the ceiling fails in one line, since no request can read past it.

    The first ``max`` is sized like the appointments' (``expected``: last run's count). Elements are returned as
    sent, non-objects included, for the caller to screen.
    """
    ceiling = max(1, page_ceiling)
    size = _first_ask(expected, min(max(1, page_size), ceiling), ceiling)
    while True:
        rows = fetch("/orders", {"max": size})
        if not isinstance(rows, list):
            raise AcuityResponseError(f"/orders returned {type(rows).__name__}, expected a list")
        if len(rows) < size:
            return rows
        if size >= ceiling:
            raise AcuityResponseError(
                f"/orders returned a full answer at max={ceiling}, so some orders cannot be read:"
                " raise ACUITY_PAGE_CEILING"
            )
        size = ceiling
