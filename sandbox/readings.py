"""Where Acuity's documentation is silent, the sandbox must pick a reading; these switches pick the other one.

The defaults are the sandbox's assumptions (docs/acuity-api.md lists each with its evidence). A test that depends on
an assumption can run against both readings, so a client that only works under one of them is caught.
"""

from __future__ import annotations

from dataclasses import dataclass

DATE_ZONES = ("calendar", "account", "UTC")
TIES = ("id", "reverse_id")


@dataclass(frozen=True)
class Readings:
    """`date_zone`: the zone in which minDate/maxDate are compared with an appointment's start (its calendar's, the
    account's, or UTC). `ties`: the order of appointments starting in the same second, in the requested direction
    (`id`) or against it (`reverse_id`). `order_time_zone`: the zone of /orders' offset-less `time`. `max_ceiling`:
    a cap on rows per answer whatever `max` asks for (None: no cap), truncating as silently as `max` does."""

    date_zone: str = "calendar"
    ties: str = "id"
    order_time_zone: str = "account"
    max_ceiling: int | None = None

    def __post_init__(self) -> None:
        if self.date_zone not in DATE_ZONES:
            raise ValueError(f"date_zone must be one of {DATE_ZONES}")
        if self.ties not in TIES:
            raise ValueError(f"ties must be one of {TIES}")
        if self.order_time_zone not in ("account", "UTC"):
            raise ValueError("order_time_zone must be 'account' or 'UTC'")
        if self.max_ceiling is not None and self.max_ceiling < 1:
            raise ValueError("max_ceiling must be at least 1")

    def limit(self, requested: int) -> int:
        return requested if self.max_ceiling is None else min(requested, self.max_ceiling)
