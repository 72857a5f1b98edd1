"""Equivalent shapes loaded in Acuity's canonical form, before the record checks (``extract.validate``) judge them.

Real answers vary types and formats where the meaning is the same (docs/acuity-api.md, "Shapes real answers take"):
an id or count sent as ``"7"``, a boolean as ``"true"``, a ``classID`` as an integer, a phone as a number, a time as
``…Z``, ``…+05:00``, with fractional seconds, without seconds or without an offset. Loading each as sent would put it
in a dlt variant column the models never read, or make staging's parse of a valid time null. So each is rewritten to
the canonical form here (a copy, ``Repaired``, that remembers the record as received for ``rejected_records``):
- types are coerced silently: the value means exactly what Acuity documents, nothing is lost;
- a time in another ISO form is flagged (``datetime_normalised``), and one without an offset is read in the
  calendar's zone (``datetime_without_offset``) — or quarantined when no zone is known (``extract.validate``).
Times are rewritten before paging reads their dates (``extract.paging``'s ``prepare``), so the date a read, its scd2
scope and the models see is one and the same: the local date in the appointment's calendar zone.
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from extract.contract import FIELDS, PLAUSIBLE_YEARS

# Acuity's own form: 2026-11-24T10:15:00-0500. Anything else that parses is rewritten to it.
CANONICAL_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{4}")
_HAS_CLOCK = re.compile(r"\d[T ]\d{2}:?\d{2}")  # a time of day, not a bare date
_INTEGER = re.compile(r"\s*[+-]?\d{1,19}\s*")
_BOOLEANS = {"true": True, "false": False}
_INT64 = (-(2**63), 2**63 - 1)


class Repaired(dict):  # type: ignore[type-arg]
    """A record rewritten to the canonical form: ``original`` is what the server sent, ``flags`` the reasons the
    rewrite is reported for (empty when only types were coerced)."""

    __slots__ = ("flags", "original")

    def __init__(self, original: dict[str, Any]) -> None:
        super().__init__(original)
        self.original = original
        self.flags: list[str] = []


@dataclass(frozen=True)
class Reference:
    """What repairs and fallbacks need from the account's other answers: each calendar's zone and the account's."""

    calendar_zones: Mapping[int, str] = field(default_factory=dict)
    account_zone: str | None = None

    @classmethod
    def of(cls, calendars: Any, me: Any) -> Reference:
        """From the ``/calendars`` and ``/me`` answers as received (anything unusable in them is skipped)."""
        zones: dict[int, str] = {}
        for calendar in calendars if isinstance(calendars, list) else []:
            if isinstance(calendar, dict) and known_zone(calendar.get("timezone")):
                key = as_int(calendar.get("id"))
                if key is not None:
                    zones[key] = calendar["timezone"]
        account_zone = me.get("timezone") if isinstance(me, dict) else None
        return cls(zones, account_zone if known_zone(account_zone) else None)

    def zone_of(self, row: Mapping[str, Any]) -> str | None:
        """The zone an appointment's local times are in: its calendarTimezone, its calendar's, or the account's."""
        own = row.get("calendarTimezone")
        if known_zone(own):
            return own
        calendar = self.calendar_zones.get(as_int(row.get("calendarID")))  # type: ignore[arg-type]
        return calendar or self.account_zone


@cache
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def known_zone(value: Any) -> bool:
    return type(value) is str and value in _zones()


def as_int(value: Any) -> int | None:
    """An integer, or the text of one, as an int within 64 bits; else None (booleans are not integers)."""
    if type(value) is int:
        return value if _INT64[0] <= value <= _INT64[1] else None
    if type(value) is str and _INTEGER.fullmatch(value):
        number = int(value)
        return number if _INT64[0] <= number <= _INT64[1] else None
    return None


def parse_time(value: Any, zone: str | None) -> tuple[datetime, bool] | None:
    """An ISO 8601 date and time as an aware datetime, and whether its offset came from ``zone`` (the text had none);
    None when it is no ISO time of day, has no offset and no zone is known, or lies outside PLAUSIBLE_YEARS."""
    if type(value) is not str or not _HAS_CLOCK.search(value):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if parsed.year not in PLAUSIBLE_YEARS:
        return None
    if parsed.tzinfo is not None:
        return parsed, False
    if zone is None:
        return None
    return parsed.replace(tzinfo=zoneinfo.ZoneInfo(zone)), True


def canonical_time(moment: datetime) -> str:
    """Acuity's form, seconds kept and fractions dropped: 2026-11-24T10:15:00-0500."""
    offset = moment.utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    hours, minutes = divmod(abs(minutes), 60)
    return f"{moment.replace(microsecond=0, tzinfo=None).isoformat()}{sign}{hours:02d}{minutes:02d}"


_TIME_FIELDS = tuple(name for name, kind in FIELDS["appointments"].items() if kind in ("start", "datetime"))


def normalise_times(row: Any, reference: Reference) -> Any:
    """An appointment with its times in Acuity's form, in its calendar's zone: ``row`` itself when they already
    are (the common case: one regex match each), else a flagged ``Repaired`` copy. Never raises."""
    if not isinstance(row, dict):
        return row
    repaired: Repaired | None = None
    for name in _TIME_FIELDS:
        value = row.get(name)
        if value is None or value == "" or (type(value) is str and CANONICAL_TIME.fullmatch(value)):
            continue
        zone = reference.zone_of(row)
        parsed = parse_time(value, zone)
        if parsed is None:
            continue  # unusable: extract.validate quarantines (start) or flags (datetimeCreated) it as received
        moment, zone_supplied = parsed
        if zone is not None:
            try:
                moment = moment.astimezone(zoneinfo.ZoneInfo(zone))
            except (OverflowError, ValueError):
                continue
        repaired = repaired if repaired is not None else Repaired(row)
        repaired[name] = canonical_time(moment)
        repaired.flags.append(f"datetime_without_offset_{name}" if zone_supplied else f"datetime_normalised_{name}")
    return row if repaired is None else repaired


def coerce_types(resource: str, row: dict[str, Any]) -> dict[str, Any]:
    """``row`` with equivalent types in the documented one (ids and counts sent as text, booleans as "true", codes
    and text sent as integers); ``row`` itself when none needed it. A value of no equivalent shape is left for the
    checks to flag."""
    changes: dict[str, Any] = {}
    for name, kind in FIELDS.get(resource, {}).items():
        value = row.get(name)
        if value is None:
            continue
        kind_of = type(value)
        if kind in ("id", "int") and kind_of is str and (number := as_int(value)) is not None:
            changes[name] = number
        elif kind == "bool" and kind_of is str and value.strip().lower() in _BOOLEANS:
            changes[name] = _BOOLEANS[value.strip().lower()]
        elif kind in ("text", "code") and kind_of is int:
            changes[name] = str(value)
    if not changes:
        return row
    repaired = row if isinstance(row, Repaired) else Repaired(row)
    repaired.update(changes)
    return repaired


def as_received(row: Any) -> Any:
    """The record exactly as the server sent it (what ``rejected_records`` keeps)."""
    return row.original if isinstance(row, Repaired) else row
