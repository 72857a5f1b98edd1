"""The personal-data rules on their own (extract.privacy): which accounts leave health data out, how a person is
recognised however their phone was written, and what a forgotten person's record is stored as."""

from __future__ import annotations

import os

import pytest

from extract.config import settings_from_env
from extract.errors import AcuityError
from extract.privacy import Forgotten, Privacy, omits_health, phone_key

pytestmark = pytest.mark.unit

SALT = b"\x01" * 32


@pytest.mark.parametrize(
    ("setting", "me", "omitted"),
    [
        ("auto", {"id": 1, "isHIPAA": True}, True),
        ("auto", {"id": 1, "isHIPAA": False}, False),
        ("auto", {"id": 1}, False),  # an account that says nothing is not assumed to be HIPAA-enabled
        ("keep", {"id": 1, "isHIPAA": True}, False),  # the operator's word wins
        ("omit", {"id": 1}, True),
    ],
)
def test_health_data_is_left_out_by_default_only_on_a_hipaa_enabled_account(setting: str, me: dict, omitted: bool):
    assert omits_health(setting, me) is omitted


def test_a_bad_health_data_setting_is_refused_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in os.environ if n.startswith(("ACUITY_", "SOURCES__ACUITY__"))]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("ACUITY_HEALTH_DATA", "sometimes")
    with pytest.raises(AcuityError) as refused:
        settings_from_env("2026-11-24")
    line = str(refused.value)
    assert (
        "\n" not in line
        and line.startswith("ACUITY_HEALTH_DATA")
        and "'sometimes' is not one of auto, keep, omit" in line
    )
    assert line.endswith("e.g. ACUITY_HEALTH_DATA=omit")


@pytest.mark.parametrize("written", ["(310) 922-7939", "+1 310-922-7939", "0013109227939", "310.922.7939 "])
def test_a_phone_is_the_same_person_however_it_was_written(written: str) -> None:
    assert phone_key(written) == "3109227939"


def forgotten_jane() -> Forgotten:
    keys = Forgotten(SALT)
    return Forgotten(SALT, frozenset({keys.digest("email", "jane@example.com")}), frozenset({7, 42}))


def test_a_forgotten_persons_record_is_stored_anonymised_once_and_stays_so() -> None:
    privacy = Privacy(forgotten=forgotten_jane())
    record = {
        "id": 7,
        "firstName": "Jane",
        "lastName": "Roe",
        "email": " Jane@Example.com ",
        "phone": "(310) 922-7939",
        "notes": "knee surgery in May",
        "forms": [{"values": [{"value": "asthma"}]}],
        "price": "60.00",
    }
    stored = privacy.admit("appointments", record)
    text = repr(stored).lower()
    assert not any(value in text for value in ("jane", "roe", "example.com", "922", "knee", "asthma"))
    assert stored["price"] == "60.00" and stored["id"] == 7  # the record itself still counts
    assert stored["forms"] == [] and stored["notes"] == ""
    # admitted again (deduplicated, then loaded) it does not change: one pseudonym wherever she was
    assert privacy.admit("appointments", stored) == stored
    # her other appointment, by id alone, and an order with only her email, get the same pseudonyms
    other = privacy.admit("appointments", {"id": 42, "email": "", "phone": "+1 310 922 7939", "firstName": "J"})
    assert other["phone"] == stored["phone"]
    order = privacy.admit("orders", {"id": 9, "email": "jane@example.com", "firstName": "Jane", "lastName": "Roe"})
    assert order["email"] == stored["email"] and order["lastName"] == stored["lastName"]
    assert len(privacy.anonymised) == 3


def test_someone_else_is_stored_as_acuity_sent_them() -> None:
    privacy = Privacy(forgotten=forgotten_jane())
    record = {"id": 8, "firstName": "Ada", "email": "ada@example.com", "phone": "3105550100", "notes": "prefers 9am"}
    assert privacy.admit("appointments", record) is record
    assert privacy.anonymised == set()
