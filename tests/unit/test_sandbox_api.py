"""Pure pieces of the sandbox's API surface: parameter checking, the no-show invariant and payment transactions."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from sandbox.catalog import CALENDARS
from sandbox.records import Appointment
from sandbox.render import calendar, payments
from sandbox.server import ApiError, _Params, appointment_query

pytestmark = pytest.mark.unit

APPOINTMENT = Appointment(
    id=700_000_001,
    start=datetime(2026, 5, 1, 14, tzinfo=UTC),
    created=datetime(2026, 4, 1, 9, tzinfo=UTC),
    calendar_id=CALENDARS[0].id,
    type_id=18204411,
    first_name="Ann",
    last_name="Lee",
    email="ann@x.example",
    phone="",
    client_tz="America/New_York",
    price_sold="120.50",
    amount_paid="120.50",
    canceled=False,
    no_show=False,
    notes="",
    labels=None,
    forms=(),
    scheduled_by=None,
    person=1,
)


def test_a_no_show_is_canceled() -> None:
    with pytest.raises(ValueError, match="a no-show is a canceled appointment"):
        replace(APPOINTMENT, no_show=True)
    missed = replace(APPOINTMENT, canceled=True, no_show=True)
    assert (missed.status, replace(APPOINTMENT, canceled=True).status, APPOINTMENT.status) == (
        "no_show",
        "canceled",
        "scheduled",
    )


def test_payments_sum_to_amount_paid_and_are_stable() -> None:
    counts = set()
    processors = set()
    for number in range(300):
        appointment = replace(APPOINTMENT, id=APPOINTMENT.id + number, amount_paid=f"{number % 7 + 0.01:.2f}")
        rows = payments(appointment, CALENDARS[0])
        assert sum(Decimal(r["amount"]) for r in rows) == Decimal(appointment.amount_paid)
        assert all(Decimal(r["amount"]) > 0 for r in rows)
        assert rows == payments(appointment, CALENDARS[0])
        counts.add(len(rows))
        processors |= {r["processor"] for r in rows}
    assert counts == {1, 2, 3} and len(processors) == 4
    assert payments(replace(APPOINTMENT, amount_paid="0.00"), CALENDARS[0]) == []


def test_calendar_pictures_are_false_or_a_url() -> None:
    rendered = [calendar(c) for c in CALENDARS]
    assert {type(c["image"]) for c in rendered} == {bool, str} and False in {c["thumbnail"] for c in rendered}


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("showAll=true", "Unknown parameter showAll"),
        ("addonIDs=1", "addonIDs parameter is not supported"),
        ("field:x=1", "numeric form field id"),
        ("excludeForms=maybe", "true or false"),
        ("max=0", "at least 1"),
        ("direction=up", "ASC or DESC"),
    ],
)
def test_appointment_parameters_refused_with_a_reason(query: str, message: str) -> None:
    params = _Params(query)
    with pytest.raises(ApiError, match=message) as refused:
        params.only(frozenset({"max", "direction", "excludeForms"}), fields=True)
        appointment_query(params)
    assert set(refused.value.body) == {"status_code", "message", "error"} and refused.value.status == 400


def test_appointment_parameters_parsed() -> None:
    query = appointment_query(_Params("field:5501=Instagram&field:5511=Firm&excludeForms=true&showall=true&max=5"))
    assert query.fields == ((5501, "Instagram"), (5511, "Firm"))
    assert (query.with_forms, query.status, query.max) == (False, "all", 5)
    assert appointment_query(_Params("")).with_forms is True
