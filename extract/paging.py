"""Reading complete result sets from an API that has no paging.

Acuity silently truncates every list at ``max`` rows and offers no offset or cursor. The only complete reads are:
- appointments: walk a date window in ascending order; when a response is full, everything that sorts before its
  last row is complete, so the next request starts at the first local date that could still hold unseen rows;
- orders: no date filter at all, so ask again with a larger ``max`` until the answer is shorter than ``max``.
Neither stops because a response held nothing new (the seed importer's bug): only a short response ends a read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

from extract.errors import AcuityResponseError

Fetch = Callable[[str, dict[str, Any]], Any]

# Local time = UTC + offset and offsets run from -12:00 to +14:00: an appointment that starts at or after UTC
# instant T has a local date no earlier than the date of T - 12 h.
_MOST_NEGATIVE_OFFSET = timedelta(hours=12)


def parse_acuity_datetime(value: str) -> datetime:
    """Acuity writes ``2013-07-02T10:15:00-0700`` (offset without colon); Python 3.11 parses that form."""
    return datetime.fromisoformat(value)


def read_appointment_window(
    fetch: Fetch, first: date, last: date, page_size: int, duplicates: list[dict[str, Any]] | None = None
) -> Iterator[dict[str, Any]]:
    """Yield every appointment (canceled included) whose local date is in [first, last], each id once.

    Consecutive requests overlap by up to a day, so an id seen before is expected and skipped; an id repeated
    within ONE response is a server fault and its extra copies go to ``duplicates``. Rows dated outside the window
    (a server ignoring minDate) belong to other reads and are left to them; rows without a usable date are yielded
    so the caller can quarantine them.
    """
    seen: set[int] = set()
    window = (first.isoformat(), last.isoformat())
    cursor, size = first, page_size
    while cursor <= last:
        params = {
            "minDate": cursor.isoformat(),
            "maxDate": last.isoformat(),
            "max": size,
            "direction": "ASC",
            "showall": "true",
        }
        rows = fetch("/appointments", params)
        if not isinstance(rows, list):
            raise AcuityResponseError(f"/appointments returned {type(rows).__name__}, expected a list")
        in_response: set[Any] = set()
        for row in rows:
            key = row.get("id")
            if key in in_response and duplicates is not None:
                duplicates.append(row)
            in_response.add(key)
            if key in seen or not _dated_within(row, window):
                continue
            seen.add(key)
            yield row
        if len(rows) < size:
            return
        next_cursor = _first_incomplete_date(rows)
        if next_cursor is None or next_cursor <= cursor:
            # one span of ~a day holds at least `size` rows: only a larger answer can get past it
            size *= 2
        else:
            cursor = next_cursor


def _dated_within(row: dict[str, Any], window: tuple[str, str]) -> bool:
    """True unless the row's local ISO date is readable and outside [first, last] (an undated row is kept)."""
    day = str(row.get("datetime") or "")[:10]
    if len(day) != 10 or day[4] != "-":
        return True
    return window[0] <= day <= window[1]


def _first_incomplete_date(rows: list[dict[str, Any]]) -> date | None:
    """The earliest local date that may still hold rows the truncated response did not include."""
    starts = []
    for row in rows:
        try:
            starts.append(parse_acuity_datetime(row["datetime"]).astimezone(UTC))
        except (KeyError, TypeError, ValueError):
            continue  # a bad datetime is the models' business (counted there); it cannot move the cursor
    if not starts:
        return None
    return (max(starts) - _MOST_NEGATIVE_OFFSET).date()


def read_all_orders(fetch: Fetch, first_size: int) -> list[dict[str, Any]]:
    """All orders: ``/orders`` only takes ``max``, so grow it until the answer is shorter than asked."""
    size = first_size
    while True:
        rows = fetch("/orders", {"max": size})
        if not isinstance(rows, list):
            raise AcuityResponseError(f"/orders returned {type(rows).__name__}, expected a list")
        if len(rows) < size:
            return rows
        size *= 2
