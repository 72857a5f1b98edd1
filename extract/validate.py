"""Record checks at the door: bad records are never fatal and never silent.

A record the raw layer cannot place (no id, no usable start time) is quarantined: it goes to ``rejected_records``
with its payload and the reason, instead of its own table. A record that loads fine but carries a bad value (a
non-numeric price, an unknown time zone) loads as usual and is also listed there, action ``kept``, so an analyst can
find and fix it in Acuity. Duplicates of an id within one read keep the first copy and are listed as ``deduplicated``.
"""

from __future__ import annotations

import json
import re
import zoneinfo
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

_MONEY = re.compile(r"^-?\d+(\.\d+)?$")
MONEY_FIELDS = {"appointments": ("price", "priceSold", "amountPaid"), "orders": ("total",)}


@dataclass(frozen=True)
class Issue:
    reason: str
    action: str  # skipped | kept | deduplicated

    @property
    def skips(self) -> bool:
        return self.action == "skipped"


@cache
def _known_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def start_time_issue(row: dict[str, Any]) -> Issue | None:
    value = row.get("datetime")
    if value in (None, ""):
        return Issue("missing_datetime", "skipped")
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        return Issue("invalid_datetime", "skipped")
    return None if parsed.tzinfo is not None else Issue("invalid_datetime", "skipped")


def record_issues(resource: str, row: dict[str, Any]) -> list[Issue]:
    """Everything wrong with one appointment or order, most serious first."""
    issues = []
    if not isinstance(row.get("id"), int) or isinstance(row.get("id"), bool):
        issues.append(Issue("missing_id", "skipped"))
    if resource == "appointments":
        if (start := start_time_issue(row)) is not None:
            issues.append(start)
        zone = row.get("calendarTimezone")
        if zone and zone not in _known_zones():
            issues.append(Issue("unknown_timezone", "kept"))
    for name in MONEY_FIELDS.get(resource, ()):
        value = row.get(name)
        if value not in (None, "") and not _MONEY.match(str(value).strip()):
            issues.append(Issue(f"invalid_money_{name}", "kept"))
    return issues


def rejected_row(tenant_id: str, run_id: str, resource: str, row: Any, issue: Issue) -> dict[str, Any]:
    """One ``rejected_records`` row: what, why, what we did, and the payload exactly as received."""
    record_id = row.get("id") if isinstance(row, dict) else None
    return {
        "tenant_id": tenant_id,
        "run_id": run_id,
        "resource": resource,
        "record_id": str(record_id) if record_id is not None else None,
        "reason": issue.reason,
        "action": issue.action,
        "payload": json.dumps(row, sort_keys=True, default=str),
    }
