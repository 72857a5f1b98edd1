"""Turn internal records into Acuity's JSON shapes, with Acuity's own date, time and money formats."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sandbox.catalog import FORMS, PROCESSORS
from sandbox.design import duration, price_text
from sandbox.records import Addon, Appointment, AppointmentType, Calendar, Certificate, Client, Order, Profile

MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def iso_offset(moment: datetime, tz: str) -> str:
    """ISO 8601 with Acuity's colon-less offset, e.g. 2026-11-24T10:15:00-0500."""
    return iso_local(moment.astimezone(ZoneInfo(tz)))


def iso_local(local: datetime) -> str:
    """Same as strftime(ISO) on an aware local datetime, several times faster (hot path for big windows)."""
    offset = local.utcoffset()
    minutes = int(offset.total_seconds()) // 60 if offset is not None else 0
    sign = "-" if minutes < 0 else "+"
    hours, minutes = divmod(abs(minutes), 60)
    return (
        f"{local.year:04d}-{local.month:02d}-{local.day:02d}T{local.hour:02d}:{local.minute:02d}:"
        f"{local.second:02d}{sign}{hours:02d}{minutes:02d}"
    )


def long_date(local: datetime) -> str:
    return f"{MONTHS[local.month - 1]} {local.day}, {local.year}"


def clock(local: datetime) -> str:
    return f"{local.hour % 12 or 12}:{local.minute:02d}{'am' if local.hour < 12 else 'pm'}"


def order_time(moment: datetime, tz: str) -> str:
    local = moment.astimezone(ZoneInfo(tz))
    return f"{local.year:04d}-{local.month:02d}-{local.day:02d} {local.hour:02d}:{local.minute:02d}"


def _digest(*parts: object) -> str:
    return hashlib.md5(":".join(map(str, parts)).encode()).hexdigest()


_FORM_NAMES = {form_id: name for form_id, name, _ in FORMS}


def forms(appt: Appointment) -> list[dict[str, Any]]:
    """`forms[]{id,name,values[]{id,fieldID,name,value}}`, one entry per intake form the client filled in."""
    grouped: dict[int, list[dict[str, Any]]] = {}
    for number, answer in enumerate(appt.forms):
        grouped.setdefault(answer.form_id, []).append(
            {
                "id": appt.id % 100_000 * 10 + number,
                "fieldID": answer.field_id,
                "name": answer.name,
                "value": answer.value,
            }
        )
    return [{"id": form_id, "name": _FORM_NAMES[form_id], "values": values} for form_id, values in grouped.items()]


def forms_text(appt: Appointment) -> str:
    return "".join(f"{a.name}: {a.value}\n" for a in appt.forms)


def appointment(
    appt: Appointment, calendar: Calendar, kind: AppointmentType, profile: Profile, with_forms: bool = True
) -> dict[str, Any]:
    """One appointment; `with_forms=False` is excludeForms=true: no `forms` and no `formsText` key at all."""
    tz = calendar.timezone
    local = appt.start.astimezone(ZoneInfo(tz))
    created = appt.created.astimezone(ZoneInfo(tz))
    confirmation = (
        f"{profile.scheduling_page}schedule.php?owner={profile.owner}&action=appt"
        f"&id%5B%5D={_digest(profile.owner, appt.id)}"
    )
    owes = Decimal(appt.price_sold) > Decimal(appt.amount_paid) and not appt.canceled
    row: dict[str, Any] = {
        "id": appt.id,
        "firstName": appt.first_name,
        "lastName": appt.last_name,
        "phone": appt.phone,
        "email": appt.email,
        "date": long_date(local),
        "time": clock(local),
        "endTime": clock((appt.start + timedelta(minutes=duration(appt))).astimezone(ZoneInfo(tz))),
        "dateCreated": long_date(appt.created.astimezone(ZoneInfo(profile.timezone))),
        "datetimeCreated": iso_local(created),
        "datetime": iso_local(local),
        "price": price_text(appt),
        "priceSold": appt.price_sold,
        "paid": "yes" if Decimal(appt.amount_paid) > 0 else "no",
        "amountPaid": appt.amount_paid,
        "type": kind.name,
        "appointmentTypeID": kind.id,
        "addonIDs": list(appt.addon_ids),
        "classID": appt.class_id,
        "category": kind.category,
        "duration": str(duration(appt)),
        "calendar": calendar.name,
        "calendarID": calendar.id,
        "subCalendarID": appt.sub_calendar_id,
        "canceled": appt.canceled,
        "noShow": appt.no_show,
        "canClientCancel": not appt.canceled,
        "canClientReschedule": not appt.canceled,
        "location": calendar.location,
        "certificate": appt.certificate,
        "confirmationPage": confirmation,
        "confirmationPagePaymentLink": f"{confirmation}&payment=1" if owes else None,
        "isVerified": appt.is_verified,
        "notes": appt.notes,
        "timezone": appt.client_tz,
        "calendarTimezone": tz,
        "labels": None if appt.labels is None else [{"id": i, "name": n, "color": c} for i, n, c in appt.labels],
        "scheduledBy": appt.scheduled_by,
    }
    if with_forms:
        row["forms"] = forms(appt)
        row["formsText"] = forms_text(appt)
    return row


def payments(appt: Appointment, calendar: Calendar) -> list[dict[str, Any]]:
    """The transactions that make up `amountPaid`: usually one, sometimes a deposit and the rest (2-3).

    Derived from the appointment id, so the same appointment always lists the same transactions, and they always
    sum to the current `amountPaid` (an edit of the amount re-splits it).
    """
    cents = int(Decimal(appt.amount_paid) * 100)
    if cents <= 0:
        return []
    bits = int(_digest("payment", appt.id), 16)
    count = min((1, 1, 1, 1, 1, 1, 1, 2, 2, 3)[bits % 10], cents)
    shares = [cents // count] * count
    shares[0] += cents - sum(shares)
    rows = []
    for number, share in enumerate(shares):
        processor = PROCESSORS[(bits >> (8 + 4 * number)) % len(PROCESSORS)]
        rows.append(
            {
                "transactionID": _transaction_id(processor, _digest("payment", appt.id, number)),
                "created": iso_offset(appt.created + timedelta(days=number), calendar.timezone),
                "processor": processor,
                "amount": f"{share // 100}.{share % 100:02d}",
            }
        )
    return rows


def _transaction_id(processor: str, digest: str) -> str:
    """Each processor's own id shape (Stripe charge, Square payment, PayPal capture, Authorize.net number)."""
    if processor == "stripe":
        return "ch_" + digest[:24]
    if processor == "paypal":
        return digest[:17].upper()
    if processor == "authorize.net":
        return str(int(digest[:12], 16) % 10**11)
    return digest[:22]


def client(record: Client) -> dict[str, Any]:
    return {
        "firstName": record.first_name,
        "lastName": record.last_name,
        "email": record.email,
        "phone": record.phone,
        "notes": record.notes,
    }


def order(record: Order, account_tz: str) -> dict[str, Any]:
    return {
        "id": record.id,
        "total": record.total,
        "status": record.status,
        "time": order_time(record.time, account_tz),
        "firstName": record.first_name,
        "lastName": record.last_name,
        "phone": record.phone,
        "email": record.email,
        "title": record.title,
        "notes": record.notes,
    }


def calendar(record: Calendar) -> dict[str, Any]:
    return {
        "id": record.id,
        "name": record.name,
        "email": record.email,
        "replyTo": record.email,
        "description": record.description,
        "location": record.location,
        "timezone": record.timezone,
        "thumbnail": record.thumbnail or False,
        "image": record.image or False,
    }


def appointment_type(record: AppointmentType, profile: Profile) -> dict[str, Any]:
    return {
        "id": record.id,
        "active": record.active,
        "name": record.name,
        "description": record.description,
        "duration": record.duration,
        "price": record.price,
        "category": record.category,
        "color": record.color,
        "private": False,
        "type": record.kind,
        "classSize": record.class_size,
        "paddingAfter": 0,
        "paddingBefore": 0,
        "calendarIDs": list(record.calendar_ids),
        "addonIDs": list(record.addon_ids),
        "formIDs": list(record.form_ids),
        "image": record.image,
        "schedulingUrl": f"{profile.scheduling_page}schedule.php?owner={profile.owner}&appointmentType={record.id}",
    }


def addon(record: Addon) -> dict[str, Any]:
    """GET /appointment-addons: one add-on (OpenAPI ``AppointmentAddon``)."""
    return {
        "id": record.id,
        "name": record.name,
        "duration": record.duration,
        "price": record.price,
        "private": record.private,
    }


def certificate(
    record: Certificate, uses_left: dict[int, int] | None, value_left: Decimal | None, tz: str
) -> dict[str, Any]:
    """GET /certificates: one code and what is left on it. ``remainingCounts`` is keyed by appointment type id, as
    integrations that read real answers use it (the community OpenAPI file calls it an integer: the shape
    ``remaining_counts_as_int`` sends that); ``expiration`` is account-local without an offset, as in Acuity's
    example."""
    expires = record.expires
    return {
        "id": record.id,
        "certificate": record.code,
        "productID": record.product.id,
        "orderID": record.order_id,
        "appointmentTypeIDs": list(record.product.types),
        "name": record.product.name,
        "email": record.email,
        "type": record.product.kind,
        "remainingCounts": None if uses_left is None else {str(key): left for key, left in uses_left.items()},
        "remainingMinutes": None,
        "remainingValue": None if value_left is None else f"{value_left:.2f}",
        "expiration": None if expires is None else expires.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%dT%H:%M:%S"),
    }


def me(user_id: int, profile: Profile) -> dict[str, Any]:
    return {
        "id": user_id,
        "email": profile.email,
        "name": profile.name,
        "timezone": profile.timezone,
        "firstDayOfWeek": 0,
        "timeFormat": "ampm",
        "currency": "USD",
        "schedulingPage": profile.scheduling_page,
        "embedCode": "",
        "plan": "Powerhouse",
        "description": "",
        "isHIPAA": profile.hipaa,
    }
