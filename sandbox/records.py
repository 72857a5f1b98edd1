"""Internal records of an emulated account.

They carry more than Acuity exposes (UTC instants, the intended person and matching rule) so the sandbox can
render API responses and compute ground truth from the same source of truth.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Calendar:
    id: int
    name: str
    email: str
    timezone: str
    location: str
    description: str


@dataclass(frozen=True)
class AppointmentType:
    id: int
    name: str
    description: str
    duration: int
    price: str
    category: str
    color: str
    calendar_ids: tuple[int, ...]
    active: bool = True


@dataclass(frozen=True)
class Profile:
    """What /me reports; the numeric user id comes from the server's credentials, not from here."""

    name: str
    email: str
    timezone: str
    scheduling_page: str
    owner: str


@dataclass(frozen=True)
class Client:
    first_name: str
    last_name: str
    email: str
    phone: str
    notes: str
    person: int


@dataclass(frozen=True)
class FormAnswer:
    field_id: int
    name: str
    value: str


@dataclass(frozen=True)
class Appointment:
    """One appointment; `start` and `created` are aware UTC instants, rendering localises them."""

    id: int
    start: datetime
    created: datetime
    calendar_id: int
    type_id: int
    first_name: str
    last_name: str
    email: str
    phone: str
    client_tz: str
    price_sold: str
    amount_paid: str
    canceled: bool
    no_show: bool
    notes: str
    labels: tuple[tuple[int, str, str], ...] | None
    forms: tuple[FormAnswer, ...]
    scheduled_by: str | None
    person: int | None
    rule: str


@dataclass(frozen=True)
class Order:
    """One order; `time` is an aware UTC instant, rendered account-local without offset like Acuity."""

    id: int
    time: datetime
    total: str
    status: str
    first_name: str
    last_name: str
    email: str
    phone: str
    title: str
    notes: str
    person: int | None
    rule: str
