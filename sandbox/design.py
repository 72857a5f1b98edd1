"""Turn a decision (who books, when, on which calendar) into a complete appointment.

Shared by the generator, the large scenario and Account.book so every appointment, however it came to exist,
has the same realistic mix of services, payments, notes, labels and forms.
"""

from __future__ import annotations

import itertools
import random
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sandbox.catalog import (
    APPOINTMENT_NOTES,
    APPOINTMENT_TYPES,
    CALENDAR_WEIGHTS,
    CALENDARS,
    INTAKE_FIELDS,
    LABELS,
    SCHEDULERS,
)
from sandbox.records import Appointment, AppointmentType, Calendar, FormAnswer

CLIENT_TIMEZONES = ("America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles")
_TYPES_BY_CALENDAR = {
    cal.id: tuple(t for t in APPOINTMENT_TYPES if t.active and cal.id in t.calendar_ids) for cal in CALENDARS
}


def midnight_utc(day: date) -> datetime:
    return datetime.combine(day, time.min, UTC)


_CALENDAR_CUM_WEIGHTS = tuple(itertools.accumulate(CALENDAR_WEIGHTS))


def pick_calendar(rng: random.Random) -> Calendar:
    return rng.choices(CALENDARS, cum_weights=_CALENDAR_CUM_WEIGHTS)[0]


def local_slot(day: date, calendar: Calendar, rng: random.Random) -> datetime:
    """A business-hours start on a local day of the calendar, as a UTC instant (zoneinfo handles DST)."""
    local = datetime.combine(day, time(rng.randint(8, 17), rng.choice((0, 15, 30, 45))), ZoneInfo(calendar.timezone))
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
    rule: str,
    canceled: bool = False,
    no_show: bool = False,
) -> Appointment:
    """Fill in everything but identity and time; `contact` is (first, last, email, phone) as typed."""
    kind: AppointmentType = rng.choice(_TYPES_BY_CALENDAR[calendar.id])
    price_sold = kind.price if rng.random() < 0.9 else f"{float(kind.price) * 0.8:.2f}"
    paid = float(price_sold) > 0 and not canceled and rng.random() < 0.5
    first, last, email, phone = contact
    answers: tuple[FormAnswer, ...] = ()
    if rng.random() < 0.06:
        answers = tuple(FormAnswer(field_id, name, rng.choice(values)) for field_id, name, values in INTAKE_FIELDS)
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
        rule=rule,
    )
