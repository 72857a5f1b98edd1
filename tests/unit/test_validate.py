"""Record checks: what is quarantined, what is loaded and flagged, and that no JSON value makes them raise."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest

from extract.repair import coerce_types
from extract.validate import (
    FIELDS,
    Issue,
    column_name,
    parse_start,
    record_issues,
    rejected_row,
    start_instant,
    surplus_keys,
)
from sandbox import build_account
from sandbox.account import AppointmentQuery

pytestmark = pytest.mark.unit

GOOD = {
    "id": 7,
    "datetime": "2026-12-01T10:00:00-0500",
    "datetimeCreated": "2026-11-01T09:00:00-0500",
    "firstName": "Ann",
    "price": "120.50",
    "priceSold": "120.50",
    "amountPaid": "0.00",
    "appointmentTypeID": 3,
    "calendarID": 4,
    "canceled": False,
    "noShow": False,
    "calendarTimezone": "America/Chicago",
    "calendar": "Main Room",
    "type": "Massage",
}


def reasons(resource: str, row: object) -> list[tuple[str, str]]:
    return [(issue.reason, issue.action) for issue in record_issues(resource, row)]


def test_every_sandbox_record_is_clean() -> None:
    """The checks flag faults, not Acuity's normal shapes: the emulator's whole account, which sends the shapes real
    answers take (keys left out, ids as text, ...), passes once they are read in Acuity's documented types."""
    account = build_account("seed", 42, date(2026, 11, 24))
    records = {
        "appointments": account.appointments(AppointmentQuery(max=10**6, status="all")),
        "clients": list(account.clients()),
        "orders": list(account.orders(10**6)),
        "appointment_types": account.appointment_types(),
        "calendars": account.calendars(),
        "account": [account.me(10001)],
        "addons": account.addons(),
        "certificates": account.certificates(),
    }
    flagged = {name: [r for r in rows if record_issues(name, coerce_types(name, r))] for name, rows in records.items()}
    assert flagged == {name: [] for name in records}
    assert set(records) == set(FIELDS)


@pytest.mark.parametrize("element", [None, "text", 5, 1.5, True, [], [{"id": 1}]])
def test_an_element_that_is_not_an_object_is_quarantined(element: object) -> None:
    for resource in FIELDS:
        assert reasons(resource, element) == [("not_an_object", "skipped")]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"id": None}, "missing_id"),
        ({"id": "7"}, "invalid_id"),
        ({"id": 7.0}, "invalid_id"),
        ({"id": True}, "invalid_id"),
        ({"id": 2**63}, "int_out_of_range_id"),
        ({"calendarID": -(2**63) - 1}, "int_out_of_range_calendarID"),
        ({"forms": [{"values": [{"fieldID": 2**64}]}]}, "int_out_of_range_forms"),
        ({"firstName": "Ann\ud800"}, "invalid_unicode_firstName"),
        ({"notes\udfff": "x"}, "invalid_unicode_notes\\udfff"),
        ({"datetime": None}, "missing_datetime"),
        ({"datetime": ""}, "missing_datetime"),
        ({"datetime": "next tuesday"}, "invalid_datetime"),
        ({"datetime": "2026-12-01T10:00:00"}, "datetime_without_offset"),  # no zone known to read it in
        ({"datetime": 20261201}, "invalid_datetime"),
        ({"datetime": "0001-01-01T00:00:00+1400"}, "datetime_out_of_range"),
        ({"datetime": "9999-12-31T23:59:59-1200"}, "datetime_out_of_range"),
    ],
)
def test_an_appointment_that_cannot_load_or_be_placed_is_quarantined_with_one_reason(
    change: dict, expected: str
) -> None:
    row = {**GOOD, **change, "canceled": "maybe"}  # a second, lesser fault is not listed for a skipped record
    assert reasons("appointments", row) == [(expected, "skipped")]


def test_nesting_deeper_than_the_json_writer_takes_is_quarantined() -> None:
    deep: list = []
    for _ in range(300):
        deep = [deep]
    assert reasons("appointments", {**GOOD, "forms": deep}) == [("nested_too_deep", "skipped")]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"canceled": "maybe"}, ["invalid_bool_canceled"]),
        ({"canceled": 1, "noShow": "no"}, ["invalid_bool_canceled", "invalid_bool_noShow"]),
        ({"appointmentTypeID": "abc"}, ["invalid_int_appointmentTypeID"]),
        ({"calendarID": 4.5}, ["invalid_int_calendarID"]),
        ({"price": "99999999999999.99"}, ["money_out_of_range_price"]),
        ({"price": "999999999999.995"}, ["money_out_of_range_price"]),  # rounds past decimal(14, 2)
        ({"priceSold": "-1000000000000"}, ["money_out_of_range_priceSold"]),
        ({"amountPaid": float("inf")}, ["money_out_of_range_amountPaid"]),
        ({"amountPaid": float("nan")}, ["money_out_of_range_amountPaid"]),
        ({"price": 1e20}, ["invalid_money_price"]),  # stored as the text "1e+20", which is no decimal
        ({"price": "fifty"}, ["invalid_money_price"]),
        ({"price": True}, ["invalid_money_price"]),
        ({"price": {"amount": 5}}, ["invalid_money_price"]),
        ({"firstName": 5}, ["invalid_text_firstName"]),
        ({"calendarTimezone": "Mars/Olympus_Mons"}, ["unknown_timezone"]),
        ({"datetimeCreated": "0001-01-01T00:00:00+1400"}, ["invalid_datetime_datetimeCreated"]),
        ({"addonIDs": [3301, "x", None]}, ["invalid_addonIDs"]),
        ({"addonIDs": "3301"}, ["invalid_addonIDs"]),
        ({"addonIDs": [3301, "3301"]}, ["duplicate_addonIDs"]),  # the text of an id is that id
        ({"certificate": ["A1"]}, ["invalid_text_certificate"]),
    ],
)
def test_a_value_its_column_cannot_hold_is_loaded_and_flagged_by_field(change: dict, expected: list[str]) -> None:
    assert reasons("appointments", {**GOOD, **change}) == [(reason, "kept") for reason in expected]


@pytest.mark.parametrize("value", ["999999999999.99", "-999999999999.99", "0", "55", " 12.5 ", "", 55, 12.25, "0.001"])
def test_money_that_decimal_14_2_holds_is_not_flagged(value: object) -> None:
    assert reasons("appointments", {**GOOD, "price": value}) == []


def test_orders_time_and_money_and_clients_text() -> None:
    assert reasons("orders", {"id": 1, "total": "12345678901234.00", "time": "9999-01-01 10:00", "status": "paid"}) == [
        ("money_out_of_range_total", "kept"),
        ("invalid_datetime_time", "kept"),
    ]
    assert reasons("clients", {"firstName": None, "email": ["a@b.c"]}) == [("invalid_text_email", "kept")]
    assert reasons("clients", {}) == []  # clients have no id to require


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"remainingCounts": 3, "expiration": "2018-01-01T12:00:00"}, []),  # the community OpenAPI's example shapes
        ({"remainingCounts": {"18204412": 2, "18204416": 0}, "expiration": "2027-01-31"}, []),  # real answers'
        ({"remainingCounts": None, "expiration": None, "remainingValue": "12.50"}, []),
        ({"remainingCounts": "3"}, ["invalid_counts_remainingCounts"]),
        ({"remainingCounts": {"massage": 2}}, ["invalid_counts_remainingCounts"]),
        ({"remainingCounts": {"18204412": True}}, ["invalid_counts_remainingCounts"]),
        ({"expiration": "2026-02-30T00:00:00"}, ["invalid_date_expiration"]),
        ({"expiration": "next year"}, ["invalid_date_expiration"]),
        ({"expiration": 20270131}, ["invalid_date_expiration"]),
        ({"appointmentTypeIDs": [18204412, 18204412]}, ["duplicate_appointmentTypeIDs"]),
        ({"certificate": None}, ["missing_certificate"]),
    ],
)
def test_certificates_uses_left_expiry_and_code(change: dict, expected: list[str]) -> None:
    row = {"id": 2, "certificate": "7FFF6C65", "productID": 3, "orderID": 2, "appointmentTypeIDs": [18204412], **change}
    assert reasons("certificates", row) == [(reason, "kept") for reason in expected]


def test_start_parsing_never_raises_and_never_overflows() -> None:
    for value in ("0001-01-01T00:00:00+1400", "9999-12-31T23:59:59-1200", "garbage", None, 5, "", [1]):
        assert parse_start(value) is None and start_instant(value) is None
    assert start_instant("2026-12-01T10:00:00-0500") == datetime(2026, 12, 1, 15, tzinfo=UTC)


def test_rejected_row_stores_any_payload_as_ascii_json_and_a_printable_id() -> None:
    row = {"id": "x\ud800" * 200, "price": float("inf"), "big": 2**80}
    rejected = rejected_row("t", "r", "appointments", row, Issue("invalid_id", "skipped"))
    assert rejected["payload"].isascii()
    assert json.loads(rejected["payload"]) == {"big": 2**80, "id": "x\ud800" * 200, "price": float("inf")}
    assert rejected["record_id"].startswith("x\\ud800") and len(rejected["record_id"]) <= 101
    rejected["record_id"].encode("utf-8")  # storable
    assert rejected_row("t", "r", "clients", None, Issue("not_an_object", "skipped"))["payload"] == "null"


# ---- keys dlt would load into one column ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("extra", "expected", "dropped"),
    [
        ({"first_name": "Impostor"}, ["key_collision_first_name"], ("first_name",)),
        ({"FirstName": "Impostor", "first name": "Other"}, ["key_collision_first_name"], ("FirstName", "first name")),
        ({"Canceled": "maybe"}, ["key_collision_canceled"], ("Canceled",)),  # Acuity's boolean stays; no type flag
        ({"calendar_id": 9, "CalendarID": 8}, ["key_collision_calendar_id"], ("calendar_id", "CalendarID")),
        ({"_dlt_id": "forged"}, ["reserved_key__dlt_id"], ("_dlt_id",)),
        ({"_DLT_VALID_TO": "2020-01-01"}, ["reserved_key__DLT_VALID_TO"], ("_DLT_VALID_TO",)),
        ({"__dlt_load_id": None}, ["reserved_key___dlt_load_id"], ("__dlt_load_id",)),
        ({"tenant_id": "other"}, ["reserved_key_tenant_id"], ("tenant_id",)),
        ({"tenantId": "other"}, ["reserved_key_tenantId"], ("tenantId",)),
    ],
)
def test_keys_that_would_load_into_a_taken_column_are_flagged_and_dropped(
    extra: dict, expected: list[str], dropped: tuple[str, ...]
) -> None:
    """dlt normalises keys to snake_case and keeps the last of two that meet; ``_dlt*`` keys overwrite its own."""
    for row in ({**GOOD, **extra}, {**extra, **GOOD}):  # whichever comes first in the answer
        assert reasons("appointments", row) == [(reason, "kept") for reason in expected]
        assert surplus_keys("appointments", row) == dropped


def test_a_collision_of_undocumented_keys_keeps_acuitys_spelling_else_the_first_sorted() -> None:
    assert surplus_keys("appointments", {**GOOD, "class_id": "2", "classID": "1"}) == ("class_id",)
    assert surplus_keys("appointments", {**GOOD, "Zeta": 1, "zeta": 2}) == ("Zeta",)
    assert surplus_keys("appointments", {**GOOD, "A B": 1, "A_B": 2}) == ("A_B",)
    # non-Latin keys all become `x`, empty or blank ones `_empty`: each group still loads one value
    assert reasons("clients", {"名前": "a", "😀": "b"}) == [("key_collision_x", "kept")]
    assert reasons("clients", {"": 1, " ": 2}) == [("key_collision__empty", "kept")]


def test_key_flags_come_with_the_records_other_flags_and_never_outrank_a_quarantine() -> None:
    assert reasons("appointments", {**GOOD, "canceled": "maybe", "_dlt_id": "x"}) == [
        ("invalid_bool_canceled", "kept"),
        ("reserved_key__dlt_id", "kept"),
    ]
    assert reasons("appointments", {**GOOD, "id": None, "_dlt_id": "x"}) == [("missing_id", "skipped")]


def test_column_name_is_what_the_sources_schema_loads_a_key_into() -> None:
    from datetime import timedelta

    from extract.source import AppointmentWindow, acuity_source

    today = date(2026, 11, 24)
    schema = acuity_source(None, "t", AppointmentWindow(today, today + timedelta(days=1))).schema  # type: ignore[arg-type]
    for key in ("firstName", "calendarID", "addonIDs", "Canceled", "_DLT_ID", "tenantId", "a  b", "x" * 300):
        assert column_name(key) == schema.naming.normalize_identifier(key)


def test_the_screen_loads_the_documented_value_and_keeps_the_duplicate_in_the_payload() -> None:
    from extract.source import SyncCounts, _Screen

    counts = SyncCounts()
    screen = _Screen("appointments", "t", "run", counts)
    row = {**GOOD, "first_name": "Impostor", "_dlt_id": "forged", "Canceled": True}

    kept = screen.accepted([row, dict(GOOD)])

    assert kept == [GOOD, GOOD]
    assert {r["reason"] for r in screen.rejected} == {
        "key_collision_first_name",
        "key_collision_canceled",
        "reserved_key__dlt_id",
    }
    payload = json.loads(screen.rejected[0]["payload"])
    assert payload["first_name"] == "Impostor" and payload["_dlt_id"] == "forged" and payload["Canceled"] is True
    assert counts.set_aside("appointments", "kept") == 3 and counts.set_aside(action="skipped") == 0


def test_the_key_set_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    import extract.validate as validate

    monkeypatch.setattr(validate, "KEY_SETS_CACHED", 8)
    for n in range(50):  # a server that sends a new key per record
        assert reasons("clients", {f"k{n}": 1, f"K{n}": 2}) == [(f"key_collision_k{n}", "kept")]
    assert len(validate._spec("clients").key_sets) <= 8
