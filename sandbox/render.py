"""Turn internal records into Acuity's JSON shapes, with Acuity's own date, time and money formats."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sandbox.catalog import INTAKE_FORM
from sandbox.records import Appointment, AppointmentType, Calendar, Client, Order, Profile

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


def appointment(appt: Appointment, calendar: Calendar, kind: AppointmentType, profile: Profile) -> dict[str, Any]:
    tz = calendar.timezone
    local = appt.start.astimezone(ZoneInfo(tz))
    created = appt.created.astimezone(ZoneInfo(tz))
    forms: list[dict[str, Any]] = []
    if appt.forms:
        values = [
            {"id": appt.id % 100_000 * 10 + n, "fieldID": a.field_id, "name": a.name, "value": a.value}
            for n, a in enumerate(appt.forms)
        ]
        forms = [{"id": INTAKE_FORM[0], "name": INTAKE_FORM[1], "values": values}]
    forms_text = "".join(f"{a.name}: {a.value}\n" for a in appt.forms)
    return {
        "id": appt.id,
        "firstName": appt.first_name,
        "lastName": appt.last_name,
        "phone": appt.phone,
        "email": appt.email,
        "date": long_date(local),
        "time": clock(local),
        "endTime": clock((appt.start + timedelta(minutes=kind.duration)).astimezone(ZoneInfo(tz))),
        "dateCreated": long_date(appt.created.astimezone(ZoneInfo(profile.timezone))),
        "datetimeCreated": iso_local(created),
        "datetime": iso_local(local),
        "price": kind.price,
        "priceSold": appt.price_sold,
        "paid": "yes" if Decimal(appt.amount_paid) > 0 else "no",
        "amountPaid": appt.amount_paid,
        "type": kind.name,
        "appointmentTypeID": kind.id,
        "addonIDs": [],
        "classID": None,
        "category": kind.category,
        "duration": str(kind.duration),
        "calendar": calendar.name,
        "calendarID": calendar.id,
        "subCalendarID": None,
        "canceled": appt.canceled,
        "noShow": appt.no_show,
        "canClientCancel": not appt.canceled,
        "canClientReschedule": not appt.canceled,
        "location": calendar.location,
        "certificate": None,
        "confirmationPage": f"{profile.scheduling_page}schedule.php?owner={profile.owner}&action=appt"
        f"&id%5B%5D={_digest(profile.owner, appt.id)}",
        "notes": appt.notes,
        "timezone": appt.client_tz,
        "calendarTimezone": tz,
        "forms": forms,
        "formsText": forms_text,
        "labels": None if appt.labels is None else [{"id": i, "name": n, "color": c} for i, n, c in appt.labels],
        "scheduledBy": appt.scheduled_by,
    }


def payments(appt: Appointment, calendar: Calendar) -> list[dict[str, Any]]:
    if Decimal(appt.amount_paid) <= 0:
        return []
    return [
        {
            "transactionID": "ch_" + _digest("payment", appt.id)[:24],
            "created": iso_offset(appt.created, calendar.timezone),
            "processor": "stripe",
            "amount": appt.amount_paid,
        }
    ]


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
        "thumbnail": "",
        "image": "",
    }


def appointment_type(record: AppointmentType) -> dict[str, Any]:
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
        "type": "service",
        "classSize": None,
        "paddingAfter": 0,
        "paddingBefore": 0,
        "calendarIDs": list(record.calendar_ids),
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
    }
