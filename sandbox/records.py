"""Internal records of an emulated account.

They carry more than Acuity exposes (UTC instants, which person of the account really booked or bought) so the
sandbox can render API responses from one source of truth. They do not carry how the warehouse is expected to
match them: that is the ground-truth oracle's answer (sandbox/matching.py), derived from the current data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Calendar:
    id: int
    name: str
    email: str
    timezone: str
    location: str
    description: str
    # Acuity sends `false` when a calendar has no picture, else a URL (Airbyte's schema: boolean or string)
    image: str | None = None
    thumbnail: str | None = None


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
    kind: str = "service"  # Acuity's `type`: "service" or "class" (group sessions, which carry a classID)
    class_size: int | None = None
    addon_ids: tuple[int, ...] = ()
    form_ids: tuple[int, ...] = ()
    image: str = ""


@dataclass(frozen=True)
class Addon:
    """An add-on a client (or, when ``private``, only staff) can book with a service: it changes the appointment's
    price and duration by its own (Acuity's /appointment-addons)."""

    id: int
    name: str
    price: str
    duration: int
    private: bool = False


@dataclass(frozen=True)
class CertificateProduct:
    """A package, gift certificate or subscription the studio sells: each paid order of it issues one code.

    ``kind`` is Acuity's certificate ``type``: "appointments" (``counts``: so many uses per appointment type, as
    Acuity's products count them) or "value" (``value`` dollars towards ``type_ids``, the client paying any balance).
    ``expires_days``: from the order, or None.
    """

    id: int
    name: str
    kind: str
    type_ids: tuple[int, ...] = ()
    counts: tuple[tuple[int, int], ...] = ()
    value: str | None = None
    expires_days: int | None = None

    @property
    def types(self) -> tuple[int, ...]:
        """The appointment types a code of it pays for."""
        return self.type_ids or tuple(type_id for type_id, _ in self.counts)


@dataclass(frozen=True)
class Certificate:
    """One code an order issued (Acuity's /certificates): who bought it and what it is good for."""

    id: int
    code: str
    product: CertificateProduct
    order_id: int
    email: str
    person: int | None
    issued: datetime

    @property
    def expires(self) -> datetime | None:
        days = self.product.expires_days
        return None if days is None else self.issued + timedelta(days=days)


@dataclass(frozen=True)
class Profile:
    """What /me reports; the numeric user id comes from the server's credentials, not from here."""

    name: str
    email: str
    timezone: str
    scheduling_page: str
    owner: str
    hipaa: bool = False  # /me's isHIPAA: the account signed Acuity's Business Associate Agreement


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
    form_id: int
    field_id: int
    name: str
    value: str


@dataclass(frozen=True)
class Appointment:
    """One appointment; `start` and `created` are aware UTC instants, rendering localises them.

    `person` is who booked it (an index into the account's persons), None for someone who is not a client. A no-show
    is a canceled appointment with `no_show` set, as Acuity marks it through its cancel call.
    """

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
    addon_ids: tuple[int, ...] = ()
    class_id: str | None = None
    sub_calendar_id: int | None = None
    certificate: str | None = None
    is_verified: bool = False

    def __post_init__(self) -> None:
        if self.no_show and not self.canceled:
            raise ValueError(
                f"appointment {self.id}: a no-show is a canceled appointment (canceled: true, noShow: true)"
            )

    @property
    def status(self) -> str:
        """One status per appointment, so a no-show is never also counted as a cancellation."""
        return "no_show" if self.no_show else "canceled" if self.canceled else "scheduled"


@dataclass(frozen=True)
class Order:
    """One order; `time` is an aware UTC instant, rendered account-local without offset like Acuity.

    `person` is who bought it, None for someone who is not a client.
    """

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
