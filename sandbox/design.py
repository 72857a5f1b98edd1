"""Turn a decision (who books, when, on which calendar) into a complete appointment.

Shared by the generator, the large scenario and Account.book so every appointment, however it came to exist,
has the same realistic mix of services, payments, notes, labels and forms.
"""

from __future__ import annotations

import hashlib
import itertools
import random
from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sandbox.catalog import (
    ADDONS,
    APPOINTMENT_NOTES,
    APPOINTMENT_TYPES,
    CALENDAR_WEIGHTS,
    CALENDARS,
    CERTIFICATE_PRODUCTS,
    FORMS,
    LABELS,
    REFERRAL_COUPON,
    SCHEDULERS,
    SUB_CALENDAR_IDS,
    WELCOME_COUPON,
)
from sandbox.records import Appointment, AppointmentType, Calendar, Certificate, FormAnswer, Order

CLIENT_TIMEZONES = ("America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles")
_TYPES_BY_CALENDAR = {
    cal.id: tuple(t for t in APPOINTMENT_TYPES if t.active and cal.id in t.calendar_ids) for cal in CALENDARS
}
_RETIRED_BY_CALENDAR = {
    cal.id: tuple(t for t in APPOINTMENT_TYPES if not t.active and cal.id in t.calendar_ids) for cal in CALENDARS
}
_FIELDS = {form_id: (name, fields) for form_id, name, fields in FORMS}
_TYPES = {t.id: t for t in APPOINTMENT_TYPES}
ADDONS_BY_ID = {addon.id: addon for addon in ADDONS}
# Orders whose status issues a code (the seed's revenue statuses): an unpaid order has not bought anything yet.
CERTIFICATE_STATUSES = ("paid", "delivered")
_CENT = Decimal("0.01")


def midnight_utc(day: date) -> datetime:
    return datetime.combine(day, time.min, UTC)


_CALENDAR_CUM_WEIGHTS = tuple(itertools.accumulate(CALENDAR_WEIGHTS))


def pick_calendar(rng: random.Random) -> Calendar:
    return rng.choices(CALENDARS, cum_weights=_CALENDAR_CUM_WEIGHTS)[0]


def local_slot(day: date, calendar: Calendar, rng: random.Random) -> datetime:
    """A start on a local day of the calendar, as a UTC instant (zoneinfo handles DST).

    Mostly business hours; one in twenty is an evening slot (18:00-21:45), which on a west-coast calendar falls on
    the next day in the account's (New York) zone and in UTC, so the data tells the readings of minDate apart.
    """
    hour = rng.randint(8, 17) if rng.random() < 0.95 else rng.randint(18, 21)
    local = datetime.combine(day, time(hour, rng.choice((0, 15, 30, 45))), ZoneInfo(calendar.timezone))
    return local.astimezone(UTC)


def slot_between(rng: random.Random, calendar: Calendar, low: datetime, high: datetime) -> datetime:
    """A business-hours start with low <= start < high; rejection sampling keeps window edges exact."""
    first = low.date() - timedelta(days=1)
    span = (high.date() - first).days + 1
    while True:
        start = local_slot(first + timedelta(days=rng.randrange(span)), calendar, rng)
        if low <= start < high:
            return start


def assemble(
    rng: random.Random,
    *,
    appointment_id: int,
    start: datetime,
    created: datetime,
    calendar: Calendar,
    contact: tuple[str, str, str, str],
    person: int | None,
    canceled: bool = False,
    no_show: bool = False,
    allow_retired: bool = False,
    kind: AppointmentType | None = None,
) -> Appointment:
    """Fill in everything but identity and time; `contact` is (first, last, email, phone) as typed.

    `allow_retired` lets an old appointment be on a type the studio has retired since (Acuity keeps it, and
    /appointment-types lists it only with includeDeleted=true). `kind`: the type booked (default: one the calendar
    offers, at random).
    """
    canceled = canceled or no_show  # a no-show is canceled (Acuity marks it through the cancel call)
    if kind is None:
        retired = _RETIRED_BY_CALENDAR[calendar.id]
        if allow_retired and retired and rng.random() < 0.05:
            kind = rng.choice(retired)
        else:
            kind = rng.choice(_TYPES_BY_CALENDAR[calendar.id])
    # Values are drawn in the same order as before coupons and add-on prices existed, so the seed account's other
    # records stay as they were; what is new derives from these draws or from the appointment's id.
    welcome = rng.random() >= 0.9
    paid = float(kind.price) > 0 and not canceled and rng.random() < 0.5
    first, last, email, phone = contact
    answers: tuple[FormAnswer, ...] = ()
    if kind.form_ids and rng.random() < 0.6:
        answers = tuple(
            FormAnswer(form_id, field_id, name, rng.choice(values))
            for form_id in kind.form_ids
            for field_id, name, values in _FIELDS[form_id][1]
        )
    addons: tuple[int, ...] = ()
    if kind.addon_ids and rng.random() < 0.3:
        addons = tuple(sorted(rng.sample(kind.addon_ids, rng.randint(1, len(kind.addon_ids)))))
    class_id = None
    if kind.kind == "class":
        # one class instance per type and local start: everyone booked into it shares the id
        class_id = str(kind.id % 10_000 * 1_000_000 + int(start.timestamp()) // 900 % 1_000_000)
    referral = REFERRAL_COUPON[0].format(rng.getrandbits(24)) if rng.random() < 0.04 else None
    price = list_price(kind, addons)
    coupon, share = WELCOME_COUPON if welcome else (referral, REFERRAL_COUPON[1]) if referral else (None, "0")
    price_sold = f"{price * (1 - Decimal(share)):.2f}" if coupon else _price_text(kind, addons)
    # Acuity does not refund a canceled appointment: a quarter of them were paid before they were canceled
    paid = paid or (canceled and price > 0 and _share(appointment_id, "paid_then_canceled") < 0.25)
    return Appointment(
        id=appointment_id,
        start=start,
        created=created,
        calendar_id=calendar.id,
        type_id=kind.id,
        first_name=first,
        last_name=last,
        email=email,
        phone=phone,
        client_tz=calendar.timezone if rng.random() < 0.85 else rng.choice(CLIENT_TIMEZONES),
        price_sold=price_sold,
        amount_paid=price_sold if paid else "0.00",
        canceled=canceled,
        no_show=no_show,
        notes=rng.choice(APPOINTMENT_NOTES) if rng.random() < 0.1 else "",
        labels=(rng.choice(LABELS),) if rng.random() < 0.05 else None,
        forms=answers,
        scheduled_by=rng.choice(SCHEDULERS) if rng.random() < 0.1 else None,
        person=person,
        addon_ids=addons,
        class_id=class_id,
        sub_calendar_id=rng.choice(SUB_CALENDAR_IDS) if rng.random() < 0.05 else None,
        certificate=coupon,
        is_verified=rng.random() < 0.7,
    )


def list_price(kind: AppointmentType, addon_ids: Iterable[int]) -> Decimal:
    """Acuity's ``price`` of an appointment: its type's, changed by each of its add-ons'."""
    return Decimal(kind.price) + sum((Decimal(ADDONS_BY_ID[i].price) for i in addon_ids), Decimal(0))


def _price_text(kind: AppointmentType, addon_ids: tuple[int, ...]) -> str:
    """The price as Acuity writes it: the type's own text ("55") when no add-on changes it."""
    return kind.price if not addon_ids else f"{list_price(kind, addon_ids):.2f}"


def price_text(appt: Appointment) -> str:
    return _price_text(_TYPES[appt.type_id], appt.addon_ids)


def duration(appt: Appointment) -> int:
    """Minutes: the type's, plus each add-on's."""
    return _TYPES[appt.type_id].duration + sum(ADDONS_BY_ID[i].duration for i in appt.addon_ids)


def _share(appointment_id: int, what: str) -> float:
    """A stable number in [0, 1) per appointment: a choice that must not move the account's random draws."""
    return int(hashlib.md5(f"{what}:{appointment_id}".encode()).hexdigest()[:8], 16) / 2**32


def certificate_of(order: Order) -> Certificate | None:
    """The code a paid order of a package, gift certificate or subscription issued (Acuity's /certificates)."""
    product = CERTIFICATE_PRODUCTS.get(order.title)
    if product is None or order.status.strip().lower() not in CERTIFICATE_STATUSES:
        return None
    code = hashlib.md5(f"certificate:{order.id}".encode()).hexdigest()[:8].upper()
    return Certificate(order.id + 40_000_000, code, product, order.id, order.email, order.person, order.time)


def covers(certificate: Certificate, appt: Appointment) -> bool:
    """Whether the code pays for ``appt``: one of its types, booked before it expires, not canceled (a no-show keeps
    the use: Acuity gives nothing back for one)."""
    expires = certificate.expires
    return (
        appt.type_id in certificate.product.types
        and (expires is None or appt.start < expires)
        and (appt.no_show or not appt.canceled)
    )


def redemptions(certificate: Certificate, booked: Iterable[Appointment]) -> Iterator[tuple[Appointment, Decimal]]:
    """Each appointment the code pays for, in start order, and what it covers: a count package the type's price (an
    add-on is paid apart: Acuity lets only a value code pay for one), a value code up to what is left on it."""
    uses, left = dict(certificate.product.counts), Decimal(certificate.product.value or 0)
    for appt in sorted(booked, key=lambda a: (a.start, a.id)):
        if not covers(certificate, appt):
            continue
        if certificate.product.kind == "value":
            if left <= 0:
                return
            covered = min(left, Decimal(appt.price_sold))
            left -= covered
        elif uses.get(appt.type_id, 0) > 0:
            covered = Decimal(_TYPES[appt.type_id].price)
            uses[appt.type_id] -= 1
        else:
            continue
        yield appt, covered


def uses_left(certificate: Certificate, used: Iterable[Appointment]) -> dict[int, int]:
    """Per appointment type, the uses a count code has left after ``used``."""
    left = dict(certificate.product.counts)
    for appt in used:
        left[appt.type_id] -= 1
    return left


def redeem(certificate: Certificate, booked: Iterable[Appointment]) -> Iterator[Appointment]:
    """The buyer's appointments booked with the code: the code on each, and what it covered no longer paid on the
    appointment (the client pays only the balance; Acuity's help, "Redeeming package, gift certificate, or
    subscription codes")."""
    for appt, covered in redemptions(certificate, booked):
        balance = max(Decimal(appt.price_sold) - covered, Decimal(0))
        paid = min(Decimal(appt.amount_paid), balance).quantize(_CENT)
        yield replace(appt, certificate=certificate.code, amount_paid=f"{paid:.2f}")
