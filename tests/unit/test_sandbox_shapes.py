"""The sandbox sends the shapes real Acuity answers take (sandbox/shapes.py): each can be turned on for every record,
the seed account carries every real one by default, and none changes what the account means (its ground truth)."""

from __future__ import annotations

from datetime import date

import pytest

from sandbox import Shapes, build_account
from sandbox.account import AppointmentQuery
from sandbox.shapes import PROXY, REAL

pytestmark = pytest.mark.unit

AS_OF = date(2026, 11, 24)
EVERYTHING = AppointmentQuery(max=10**6, status="all")


def test_each_shape_turned_on_shows_in_every_record_it_can() -> None:
    account = build_account("seed", 42, AS_OF, shapes=Shapes())

    def answers(shapes: Shapes) -> tuple[list[dict], list[dict], list[dict], list[dict]]:
        account.shapes = shapes  # rendering reads it per answer
        return (
            account.appointments(EVERYTHING),
            account.appointment_types(True),
            account.calendars(),
            account.certificates(),
        )

    plain = answers(Shapes())[0]
    seen = {shape: answers(Shapes(frozenset({shape}))) for shape in REAL | PROXY}

    def keys_left_out(shape: str, key: str) -> bool:
        return all(key not in row for row in seen[shape][0])

    assert keys_left_out("no_calendar_timezone", "calendarTimezone")
    assert keys_left_out("no_datetime_created", "datetimeCreated")
    shaped = {r["id"]: r for r in seen["no_price_sold"][0]}
    assert all(("priceSold" in shaped[r["id"]]) == (r["priceSold"] != r["price"]) for r in plain)
    shaped = {r["id"]: r for r in seen["no_canceled"][0]}
    assert all(("canceled" in shaped[r["id"]]) == (r["canceled"] or r["noShow"]) for r in plain)
    assert all("labels" not in r or r["labels"] is not None for r in seen["no_labels"][0])
    assert all(isinstance(r["calendarID"], str) and r["calendarID"].isdigit() for r in seen["ids_as_text"][0])
    assert {type(r.get("classID")) for r in seen["class_id_as_int"][0]} == {int, type(None)}
    assert {r["active"] for r in seen["active_as_text"][1]} == {"true", "false"}
    images = [c["image"] for c in seen["image_variants"][2]] + [t["image"] for t in seen["image_variants"][1]]
    assert all(image in ("", False) or image.startswith("//cdn.acuityscheduling.com/") for image in images)
    assert all(":" in r["time"] and not r["time"].endswith("m") for r in seen["clock_24h"][0])
    assert any(r["time"].startswith(" ") for r in seen["clock_padded"][0])
    assert any("\r\n" in (r.get("notes") or "") for r in seen["crlf"][0])
    assert all(form["name"] == "" for r in seen["empty_form_names"][0] for form in r.get("forms") or [])
    assert all(r["datetime"].endswith("Z") for r in seen["utc_times"][0])
    assert all(len(r["datetime"]) == 16 for r in seen["naive_times"][0])
    assert [r["id"] for r in seen["ids_as_text"][0]] == [r["id"] for r in plain], "the same records, in order"
    counts = {r["id"]: r["remainingCounts"] for r in answers(Shapes())[3]}
    assert {type(value) for value in counts.values()} == {dict, type(None)}, "per type by default, null on gift codes"
    as_int = {r["id"]: r["remainingCounts"] for r in seen["remaining_counts_as_int"][3]}
    assert as_int == {key: sum(value.values()) if value else value for key, value in counts.items()}
    assert all(None not in r.values() for r in seen["no_optional"][3]), "keys left out rather than null"
    assert all(isinstance(r["productID"], str) for r in seen["ids_as_text"][3])


def test_the_seed_account_carries_every_real_shape_and_none_changes_its_ground_truth() -> None:
    default = build_account("seed", 42, AS_OF)
    assert default.shapes.on == REAL and default.shapes.every > 1
    rows = default.appointments(EVERYTHING)
    assert any("calendarTimezone" not in r for r in rows) and any("calendarTimezone" in r for r in rows)
    assert any(isinstance(r["calendarID"], str) for r in rows) and any(isinstance(r["calendarID"], int) for r in rows)
    plain = build_account("seed", 42, AS_OF, shapes=Shapes())
    assert default.ground_truth() == plain.ground_truth()


def test_an_unknown_shape_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown shapes"):
        Shapes(frozenset({"no_such_shape"}))
