"""Shapes real Acuity answers take, which the sandbox sends too: keys left out, types that vary, free text.

Seen in answers published by other integrations and in Acuity's own documented example (docs/acuity-api.md, "Shapes
real answers take"). Each shape rewrites a rendered record without changing what it means, so the ground truth
stays the same: a key is only left out where its documented fallback gives the same value back (``priceSold`` only
when it equals ``price``, ``canceled`` only when false, ``calendarTimezone`` only where the calendar has that zone).

A shape applies to about one record in ``every`` (chosen by a hash of shape and id, so the shapes mix as in a real
account, and the same record always gets the same shapes). The seed account carries ``REAL`` by default, so every
``make pipeline`` of the demo meets them; ``PROXY`` shapes (times rewritten by a proxy) are for tests only.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any

# what Acuity itself sends
REAL = frozenset(
    {
        "no_calendar_timezone",  # calendarTimezone left out (Acuity's documented example has none)
        "no_datetime_created",  # datetimeCreated left out
        "no_price_sold",  # priceSold left out where it equals price
        "no_canceled",  # canceled and noShow left out where both are false
        "no_labels",  # labels left out where there are none
        "no_optional",  # isVerified, classID, certificate, subCalendarID, scheduledBy, addonIDs, payment link left out
        "ids_as_text",  # calendarID, appointmentTypeID as "7"; an appointment type's duration as "60"
        "class_id_as_int",  # classID as an integer
        "active_as_text",  # an appointment type's active as "true"/"false"
        "image_variants",  # image/thumbnail "", false or a protocol-relative //cdn… URL
        "clock_24h",  # time and endTime as "14:15"
        "clock_padded",  # time and endTime as " 9:00am"
        "crlf",  # \r\n inside notes and form answers
        "empty_form_names",  # forms and form fields with an empty name
        "remaining_counts_as_int",  # a certificate's remainingCounts as one integer (the community OpenAPI's type)
    }
)
# what a proxy or another server in between may send: Acuity's times in other ISO 8601 forms
PROXY = frozenset(
    {
        "utc_times",  # datetime and datetimeCreated in UTC with Z and milliseconds: 2026-11-24T15:15:00.000Z
        "naive_times",  # datetime without an offset, in the calendar's local time: 2026-11-24T10:15
    }
)
SHAPES = REAL | PROXY
_OPTIONAL = ("isVerified", "classID", "certificate", "subCalendarID", "scheduledBy", "confirmationPagePaymentLink")
_CERTIFICATE_OPTIONAL = ("orderID", "remainingCounts", "remainingMinutes", "remainingValue", "expiration")


@dataclass(frozen=True)
class Shapes:
    """Which shapes the sandbox sends (``on``) and to about one record in how many (``every``)."""

    on: frozenset[str] = frozenset()
    every: int = 1

    def __post_init__(self) -> None:
        unknown = self.on - SHAPES
        if unknown:
            raise ValueError(f"unknown shapes {sorted(unknown)}; choose from {sorted(SHAPES)}")
        if self.every < 1:
            raise ValueError("every must be at least 1")

    def applies(self, shape: str, record_id: Any) -> bool:
        if shape not in self.on:
            return False
        return self.every == 1 or zlib.crc32(f"{shape}:{record_id}".encode()) % self.every == 0

    def appointment(self, row: dict[str, Any]) -> dict[str, Any]:
        """A rendered appointment (``sandbox.render.appointment``) in the shapes that apply to it."""
        key = row["id"]
        if self.applies("no_calendar_timezone", key):
            row.pop("calendarTimezone", None)
        if self.applies("no_datetime_created", key):
            row.pop("datetimeCreated", None)
        if self.applies("no_price_sold", key) and row.get("priceSold") == row.get("price"):
            row.pop("priceSold", None)
        if self.applies("no_canceled", key) and not row.get("canceled") and not row.get("noShow"):
            row.pop("canceled", None)
            row.pop("noShow", None)
        if self.applies("no_labels", key) and row.get("labels") is None:
            row.pop("labels", None)
        if self.applies("no_optional", key):
            for name in _OPTIONAL:
                if row.get(name) in (None, False):
                    row.pop(name, None)
            if row.get("addonIDs") == []:
                row.pop("addonIDs")
        if self.applies("ids_as_text", key):
            for name in ("calendarID", "appointmentTypeID"):
                row[name] = str(row[name])
        if self.applies("class_id_as_int", key) and isinstance(row.get("classID"), str):
            row["classID"] = int(row["classID"])
        if self.applies("clock_24h", key):
            row["time"], row["endTime"] = _clock_24h(row["time"]), _clock_24h(row["endTime"])
        elif self.applies("clock_padded", key):
            row["time"], row["endTime"] = f"{row['time']:>7}", f"{row['endTime']:>7}"
        if self.applies("crlf", key):
            row["notes"] = _crlf(row.get("notes"))
            for form in row.get("forms") or []:
                for value in form["values"]:
                    value["value"] = _crlf(value["value"])
        if self.applies("empty_form_names", key):
            for form in row.get("forms") or []:
                form["name"] = ""
                for value in form["values"]:
                    value["name"] = ""
        if self.applies("utc_times", key):
            for name in ("datetime", "datetimeCreated"):
                if name in row:
                    row[name] = _utc_text(row[name])
        elif self.applies("naive_times", key):
            row["datetime"] = row["datetime"][:16]
        return row

    def appointment_type(self, row: dict[str, Any]) -> dict[str, Any]:
        key = row["id"]
        if self.applies("active_as_text", key):
            row["active"] = "true" if row["active"] else "false"
        if self.applies("ids_as_text", key):
            row["duration"] = str(row["duration"])
        if self.applies("image_variants", key):
            row["image"] = _image(key, row.get("image"))
        return row

    def certificate(self, row: dict[str, Any]) -> dict[str, Any]:
        """A rendered certificate (``sandbox.render.certificate``) in the shapes that apply to it."""
        key = row["id"]
        if self.applies("remaining_counts_as_int", key) and isinstance(row.get("remainingCounts"), dict):
            row["remainingCounts"] = sum(row["remainingCounts"].values())
        if self.applies("no_optional", key):
            for name in _CERTIFICATE_OPTIONAL:
                if row.get(name) is None:
                    row.pop(name, None)
        if self.applies("ids_as_text", key):
            row["productID"] = str(row["productID"])
        return row

    def calendar(self, row: dict[str, Any]) -> dict[str, Any]:
        if self.applies("image_variants", row["id"]):
            row["image"] = _image(row["id"], row.get("image"))
            row["thumbnail"] = _image(row["id"] + 1, row.get("thumbnail"))
        return row


def _crlf(text: Any) -> Any:
    """Text as typed in a Windows browser: its first space a line break (\r\n)."""
    return text.replace(" ", "\r\n", 1) if isinstance(text, str) else text


def _clock_24h(text: str) -> str:
    """ "2:15pm" -> "14:15"."""
    hours, minutes = text[:-2].split(":")
    hour = int(hours) % 12 + (12 if text.endswith("pm") else 0)
    return f"{hour:02d}:{minutes}"


def _utc_text(text: str) -> str:
    """Acuity's "2026-11-24T10:15:00-0500" as a proxy in UTC writes it: "2026-11-24T15:15:00.000Z"."""
    from datetime import UTC, datetime

    return datetime.fromisoformat(text).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _image(key: int, image: Any) -> Any:
    """What Acuity sends for a picture: none as "" or false, one as a protocol-relative CDN URL."""
    if image:
        return "//cdn.acuityscheduling.com/" + str(image).split("//", 1)[-1].split("/", 1)[-1]
    return ("", False)[key % 2]
