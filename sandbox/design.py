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
    FORMS,
    LABELS,
    SCHEDULERS,
    SUB_CALENDAR_IDS,
)
from sandbox.records import Appointment, AppointmentType, Calendar, FormAnswer

CLIENT_TIMEZONES = ("America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles")
_TYPES_BY_CALENDAR = {
    cal.id: tuple(t for t in APPOINTMENT_TYPES if t.active and cal.id in t.calendar_ids) for cal in CALENDARS
}
_RETIRED_BY_CALENDAR = {
    cal.id: tuple(t for t in APPOINTMENT_TYPES if not t.active and cal.id in t.calendar_ids) for cal in CALENDARS
}
_FIELDS = {form_id: (name, fields) for form_id, name, fields in FORMS}


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
) -> Appointment:
    """Fill in everything but identity and time; `contact` is (first, last, email, phone) as typed.

    `allow_retired` lets an old appointment be on a type the studio has retired since (Acuity keeps it, and
    /appointment-types lists it only with includeDeleted=true).
    """
    canceled = canceled or no_show  # a no-show is canceled (Acuity marks it through the cancel call)
    retired = _RETIRED_BY_CALENDAR[calendar.id]
    if allow_retired and retired and rng.random() < 0.05:
        kind: AppointmentType = rng.choice(retired)
    else:
        kind = rng.choice(_TYPES_BY_CALENDAR[calendar.id])
    price_sold = kind.price if rng.random() < 0.9 else f"{float(kind.price) * 0.8:.2f}"
    paid = float(price_sold) > 0 and not canceled and rng.random() < 0.5
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
    certificate = f"GIFT-{rng.getrandbits(24):06X}" if rng.random() < 0.04 else None
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
        certificate=certificate,
        is_verified=rng.random() < 0.7,
    )
