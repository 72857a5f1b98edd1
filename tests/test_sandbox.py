"""The Acuity sandbox over real HTTP: determinism, the seed tenant's exact numbers, API semantics, mutations,
limits, faults and the streaming large scenario. Matching is checked with the one Python oracle of the warehouse's
identity rules (sandbox/matching.py), fed the JSON the API serves: every record matches the person who made it."""

from __future__ import annotations

import base64
import bisect
import json
import re
import socket
import time
import tracemalloc
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
import requests

from sandbox import Fault, Readings, SandboxServer, Shapes, build_account
from sandbox.catalog import CERTIFICATE_PRODUCTS
from sandbox.matching import PersonIndex, normalise_email

# the API's semantics, tested on answers of one shape (the shapes real answers take: tests/unit/test_sandbox_shapes.py)
PLAIN = Shapes()

AS_OF = date(2026, 11, 24)
NOW = datetime(2026, 11, 24, tzinfo=UTC)
USER, KEY = "10001", "sandbox-key"
AUTH = (USER, KEY)


def start_of(appt: dict) -> datetime:
    return datetime.strptime(appt["datetime"], "%Y-%m-%dT%H:%M:%S%z")


@pytest.fixture(scope="module")
def seed_account():
    return build_account("seed", 42, AS_OF, shapes=PLAIN)


@pytest.fixture(scope="module")
def api(seed_account):
    """A session against an unthrottled server for the shared, never-mutated seed account."""
    with SandboxServer({USER: (KEY, seed_account)}, rate_limit=False) as server:
        session = requests.Session()
        session.auth = AUTH
        session.base = server.base_url
        yield session


def get(session: requests.Session, path: str, **params) -> list | dict:
    response = session.get(session.base + path, params=params, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture()
def fresh():
    """A private account + server for tests that mutate or throttle."""
    account = build_account("seed", 42, AS_OF, shapes=PLAIN)
    with SandboxServer({USER: (KEY, account)}, rate_limit=False) as server:
        session = requests.Session()
        session.auth = AUTH
        session.base = server.base_url
        yield account, server, session


# ---- the oracle over what the API serves --------------------------------------------------------
def assert_intent_holds(account, clients_json, appointments_json, orders_json, exact=True):
    """The oracle, fed only the JSON the API serves, matches every record to the person who booked or bought it
    (`exact`; after an email change a record may instead fall to unmatched) and agrees with the account's ground
    truth; returns how many appointments each rule matched."""
    persons_of_client = [c.person for c in account.iter_clients()]
    oracle = PersonIndex(
        ((c["firstName"], c["lastName"], c["email"], c["phone"]), person)
        for c, person in zip(clients_json, persons_of_client, strict=True)
    )
    assert len(oracle.contact_person) == len(set(persons_of_client)), "a person is split across contacts"
    intents = {a.id: a for a in account.iter_appointments()}
    assert len(intents) == len(appointments_json)
    buyers = {o.id: o.person for o in account.iter_orders()}
    allowed = (lambda booked: {booked}) if exact else (lambda booked: {booked, None})
    rules: Counter[str] = Counter()
    for row in appointments_json:
        person, rule = oracle.resolve(row["firstName"], row["lastName"], row["email"], row["phone"])
        rules[rule] += 1
        assert person in allowed(intents[row["id"]].person), row
    for row in orders_json:
        person, _ = oracle.resolve(row["firstName"], row["lastName"], row["email"], row["phone"])
        assert person in allowed(buyers[row["id"]]), row
    truth = account.ground_truth()
    future = {a["id"]: a for a in appointments_json if start_of(a) >= NOW and not a["canceled"]}
    assert truth["future_match_rules"] == {
        i: oracle.resolve(a["firstName"], a["lastName"], a["email"], a["phone"])[1] for i, a in future.items()
    }
    return rules


# ---- determinism and the seed tenant -------------------------------------------------------------
def test_same_inputs_give_identical_responses_and_other_seed_differs():
    accounts = {
        "1": ("k", build_account("seed", 42, AS_OF, shapes=PLAIN)),
        "2": ("k", build_account("seed", 42, AS_OF, shapes=PLAIN)),
        "3": ("k", build_account("seed", 43, AS_OF, shapes=PLAIN)),
    }
    with SandboxServer(accounts, rate_limit=False) as server:

        def body(user, path):
            return requests.get(server.base_url + path, auth=(user, "k"), timeout=10).content

        for path in ("/appointments?showall=true&max=5000", "/clients", "/orders?max=1000", "/calendars"):
            assert body("1", path) == body("2", path)
        assert body("1", "/appointments?max=5000") != body("3", "/appointments?max=5000")
        assert body("1", "/clients") != body("3", "/clients")


def test_seed_scenario_numbers(api, seed_account):
    truth = seed_account.ground_truth()
    clients = get(api, "/clients")
    everything = get(api, "/appointments", showall="true", max=100_000)
    active = get(api, "/appointments", max=100_000)
    assert len(clients) == truth["clients"] == 650
    assert 630 <= truth["persons"] < 650
    assert 1900 <= len(everything) == truth["appointments"] <= 2100
    future = [a for a in active if start_of(a) >= NOW]
    assert len(future) == truth["future_active"] == 100
    buckets = Counter(bisect.bisect_right((30, 60, 90), (start_of(a) - NOW).days) for a in future)
    assert [buckets[i] for i in range(4)] == [57, 33, 5, 5]
    assert max(start_of(a) for a in future) < NOW + timedelta(days=211)
    assert NOW - timedelta(days=540) <= min(start_of(a) for a in everything) < NOW - timedelta(days=500)
    assert truth["future_matched"] == 99 and truth["future_unmatched"] == 1
    assert sum(1 for r in truth["future_match_rules"].values() if r == "unmatched") == 1
    assert truth["future_ids"] == {a["id"] for a in future}
    assert truth["future_canceled"] == 10
    assert truth["historical"] == sum(1 for a in everything if start_of(a) < NOW)
    assert sum(truth["future_by_month"].values()) == 100
    past = [a for a in everything if start_of(a) < NOW]
    no_shows = [a for a in past if a["noShow"]]
    assert 0.05 < sum(a["canceled"] and not a["noShow"] for a in past) / len(past) < 0.11
    assert 0.02 < len(no_shows) / len(past) < 0.06
    assert all(a["canceled"] for a in no_shows), "a no-show is canceled: true, noShow: true"
    assert not any(a["noShow"] for a in active), "an active appointment is never a no-show"
    statuses = Counter("no_show" if a["noShow"] else "canceled" if a["canceled"] else "scheduled" for a in everything)
    assert truth["status_counts"] == {s: statuses[s] for s in ("scheduled", "canceled", "no_show")}
    past_statuses = Counter("no_show" if a["noShow"] else "canceled" if a["canceled"] else "scheduled" for a in past)
    assert truth["historical_status_counts"] == {s: past_statuses[s] for s in ("scheduled", "canceled", "no_show")}
    assert sum(truth["status_counts"].values()) == truth["appointments"]
    assert truth["future_rule_counts"] == {"email": 88, "phone": 6, "client_id": 5, "unmatched": 1}
    orders = get(api, "/orders", max=10_000)
    assert len(orders) == truth["orders"]
    paid = [o for o in orders if o["status"] in ("paid", "delivered")]
    assert sum(Decimal(o["total"]) for o in paid) == truth["revenue_total"] == Decimal("5856.00")
    assert truth["contacts_with_revenue"] == 17 == len(truth["revenue_by_email"])
    assert sum(truth["revenue_by_email"].values()) == Decimal("5856.00")
    assert truth["unmatched_revenue"] == 0
    assert any(o["status"] == "unpaid" for o in orders)
    assert {"0.00"} <= {o["total"] for o in orders} and any("." not in o["total"] for o in orders)


def test_seed_data_is_realistically_dirty(api):
    clients = get(api, "/clients")
    everything = get(api, "/appointments", showall="true", max=100_000)
    assert 55 <= sum(1 for c in clients if not c["email"]) <= 75
    assert any(c["email"] != c["email"].strip() for c in clients + everything)
    assert any(c["email"] and c["email"] != c["email"].lower() for c in clients)
    assert sum(1 for c in clients if not c["phone"]) >= 3
    shapes = {re.sub(r"\d", "9", c["phone"]) for c in clients}
    assert {"(999) 999-9999", "999-999-9999", "+9 999 999 9999", "9999999999", "999.999.9999"} <= shapes
    assert any(c["phone"].startswith("+44") or c["phone"].startswith("0044") for c in clients)
    emails = Counter(normalise_email(c["email"]) for c in clients if c["email"])
    assert any(n > 1 for n in emails.values()), "same person listed twice with different case"
    assert {a["calendarTimezone"] for a in everything} == {
        "America/New_York",
        "America/Chicago",
        "America/Los_Angeles",
        "Europe/London",
    }
    ny = {a["datetime"][-5:] for a in everything if a["calendarTimezone"] == "America/New_York"}
    assert ny == {"-0500", "-0400"}
    assert any(a["labels"] for a in everything) and sum(a["labels"] is None for a in everything) > 1500
    assert any(a["forms"] for a in everything)
    assert {"55", "0.00", "120.50"} <= {a["price"] for a in everything}
    for a in everything[:50]:
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:00[+-]\d{4}", a["datetime"])
        assert re.fullmatch(r"\d{1,2}:\d\d(am|pm)", a["time"]) and a["duration"].isdigit()
        assert re.fullmatch(r"[A-Z][a-z]+ \d{1,2}, \d{4}", a["date"])


def test_matching_checker_agrees_with_intent_for_every_record(api, seed_account):
    rules = assert_intent_holds(
        seed_account,
        get(api, "/clients"),
        get(api, "/appointments", showall="true", max=100_000),
        get(api, "/orders", max=10_000),
    )
    assert rules["email"] > 1500 and rules["phone"] > 20 and rules["client_id"] > 20 and rules["unmatched"] > 5


def test_dst_sides_present_around_changes(api):
    everything = get(api, "/appointments", showall="true", max=100_000)
    near = {
        (a["calendarTimezone"], a["datetime"][-5:])
        for a in everything
        if date(2027, 3, 12) <= start_of(a).date() <= date(2027, 3, 16)
        or date(2026, 10, 30) <= start_of(a).date() <= date(2026, 11, 3)
    }
    assert len({offset for _, offset in near}) >= 2


# ---- HTTP semantics ------------------------------------------------------------------------------
def test_auth_errors(api):
    expected = {"status_code": 401, "message": "Unauthorized", "error": "unauthorized"}
    for auth in (None, (USER, "wrong"), ("99999", KEY)):
        response = requests.get(api.base + "/me", auth=auth, timeout=10)
        assert response.status_code == 401 and response.json() == expected


def test_me_calendars_types_and_errors(api):
    me = get(api, "/me")
    assert me["id"] == 10001 and me["timezone"] == "America/New_York" and me["currency"] == "USD"
    calendars = get(api, "/calendars")
    assert 3 <= len(calendars) <= 4 and all("timezone" in c and "replyTo" in c for c in calendars)
    types = get(api, "/appointment-types")
    assert all(t["active"] and isinstance(t["price"], str) and t["type"] in ("service", "class") for t in types)
    assert api.get(api.base + "/nope", timeout=10).json()["status_code"] == 404
    response = api.post(api.base + "/appointments", json={}, timeout=10)
    assert response.status_code == 405 and response.json()["status_code"] == 405
    response = api.get(api.base + "/appointments", params={"minDate": "tomorrow-ish"}, timeout=10)
    assert response.status_code == 400 and set(response.json()) == {"status_code", "message", "error"}
    assert response.headers["Content-Type"] == "application/json"


def test_max_truncates_silently_and_defaults_to_100(api, seed_account):
    assert len(get(api, "/appointments")) == 100
    assert len(get(api, "/appointments", max=7)) == 7
    scheduled = seed_account.ground_truth()["status_counts"]["scheduled"]
    assert 1700 < len(get(api, "/appointments", max=1_000_000)) == scheduled < 1900


def test_direction_defaults_to_desc(api):
    desc = get(api, "/appointments", max=300)
    keys = [(start_of(a), a["id"]) for a in desc]
    assert keys == sorted(keys, reverse=True)
    asc = get(api, "/appointments", max=300, direction="ASC")
    keys = [(start_of(a), a["id"]) for a in asc]
    assert keys == sorted(keys) and keys[0][0] < start_of(desc[-1])


def test_min_max_date_inclusive_on_local_date(api):
    everything = get(api, "/appointments", showall="true", max=100_000)
    day_from, day_to = "2026-12-01", "2026-12-10"
    expected = {a["id"] for a in everything if day_from <= a["datetime"][:10] <= day_to and not a["canceled"]}
    got = get(api, "/appointments", minDate=day_from, maxDate=day_to, max=1000)
    assert {a["id"] for a in got} == expected and expected
    single = get(api, "/appointments", minDate=day_to, maxDate=day_to, max=1000)
    assert single and all(a["datetime"][:10] == day_to for a in single)


def test_canceled_and_showall(api):
    active = get(api, "/appointments", max=100_000)
    canceled = get(api, "/appointments", canceled="true", max=100_000)
    every = get(api, "/appointments", showall="true", max=100_000)
    assert not any(a["canceled"] for a in active) and all(a["canceled"] for a in canceled)
    assert len(every) == len(active) + len(canceled)


def test_exact_filters(api):
    one = get(api, "/appointments", max=1)[0]
    rows = get(api, "/appointments", max=1000, calendarID=one["calendarID"], email=one["email"])
    assert one["id"] in {r["id"] for r in rows}
    assert all(r["calendarID"] == one["calendarID"] for r in rows)


def test_clients_search(api):
    clients = get(api, "/clients")
    target = next(c for c in clients if c["phone"])
    by_last = get(api, "/clients", search=target["lastName"].upper())
    assert target in by_last and all(
        target["lastName"].lower() in (c["firstName"] + c["lastName"] + c["phone"]).lower() for c in by_last
    )
    assert target in get(api, "/clients", search=target["phone"][-4:])
    assert set(clients[0]) == {"firstName", "lastName", "email", "phone", "notes"}


def test_orders_newest_first_and_max(api):
    orders = get(api, "/orders", max=1000)
    keys = [(o["time"], o["id"]) for o in orders]
    assert keys == sorted(keys, reverse=True)
    assert len(get(api, "/orders")) == min(100, len(orders))
    assert get(api, "/orders", max=3) == orders[:3]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", orders[0]["time"])


def test_appointment_by_id_and_payments(api):
    canceled = get(api, "/appointments", canceled="true", max=1)[0]
    assert get(api, f"/appointments/{canceled['id']}") == canceled
    paid = next(a for a in get(api, "/appointments", max=500) if a["amountPaid"] != "0.00")
    payments = get(api, f"/appointments/{paid['id']}/payments")
    assert sum(Decimal(p["amount"]) for p in payments) == Decimal(paid["amountPaid"])
    assert all(set(p) == {"transactionID", "created", "processor", "amount"} for p in payments)
    unpaid = next(a for a in get(api, "/appointments", max=500) if a["amountPaid"] == "0.00")
    assert get(api, f"/appointments/{unpaid['id']}/payments") == []
    assert api.get(api.base + "/appointments/1", timeout=10).json()["status_code"] == 404


# ---- types that vary in real responses, and parameters --------------------------------------------
def test_types_vary_as_in_real_responses(api):
    """Airbyte's stream schemas (inferred from real data) and the community OpenAPI: what is not always null here."""
    calendars = get(api, "/calendars")
    for key in ("image", "thumbnail"):
        assert False in {c[key] for c in calendars}
        assert any(isinstance(c[key], str) and c[key].startswith("https://") for c in calendars)
    everything = get(api, "/appointments", showall="true", max=100_000)

    def some(key, kind):
        values = [a[key] for a in everything]
        return any(v is None for v in values) and any(isinstance(v, kind) for v in values)

    assert some("classID", str) and all(a["classID"] is None or a["classID"].isdigit() for a in everything)
    assert some("subCalendarID", int) and some("certificate", str)
    assert some("labels", list) and some("scheduledBy", str)
    assert some("confirmationPagePaymentLink", str)
    assert {a["isVerified"] for a in everything} == {True, False}
    assert any(a["addonIDs"] for a in everything) and any(not a["addonIDs"] for a in everything)
    classes = {t["id"] for t in get(api, "/appointment-types") if t["type"] == "class"}
    assert all((a["classID"] is not None) == (a["appointmentTypeID"] in classes) for a in everything)
    types = {t["id"]: t for t in get(api, "/appointment-types")}
    assert any(t["addonIDs"] for t in types.values()) and any(t["formIDs"] for t in types.values())
    assert {bool(t["image"]) for t in types.values()} == {True, False}
    assert all(t["schedulingUrl"].startswith("https://") for t in types.values())
    assert all(
        set(a["addonIDs"]) <= set(types[a["appointmentTypeID"]]["addonIDs"]) for a in everything if a["addonIDs"]
    )
    paid = [a for a in everything if a["amountPaid"] != "0.00"]
    payments = [get(api, f"/appointments/{a['id']}/payments") for a in paid[:60]]
    assert {len(p) for p in payments} >= {1, 2}
    assert len({t["processor"] for p in payments for t in p}) >= 3
    for appointment, rows in zip(paid, payments, strict=False):
        assert sum(Decimal(t["amount"]) for t in rows) == Decimal(appointment["amountPaid"])


def test_intake_forms_carry_realistic_answers(api):
    everything = get(api, "/appointments", showall="true", max=100_000)
    types = {t["id"]: t for t in get(api, "/appointment-types", includeDeleted="true")}
    with_forms = [a for a in everything if a["forms"]]
    assert 0.1 < len(with_forms) / len(everything) < 0.6
    for appointment in with_forms:
        assert {f["id"] for f in appointment["forms"]} <= set(types[appointment["appointmentTypeID"]]["formIDs"])
        for form in appointment["forms"]:
            assert form["values"] and all(set(v) == {"id", "fieldID", "name", "value"} for v in form["values"])
        text = "".join(f"{v['name']}: {v['value']}\n" for f in appointment["forms"] for v in f["values"])
        assert appointment["formsText"] == text
    heard = Counter(
        v["value"]
        for a in with_forms
        for f in a["forms"]
        if f["name"] == "Intake"
        for v in f["values"]
        if v["name"] == "How did you hear about us?"
    )
    assert len(heard) >= 4 and "Instagram" in heard
    assert any(v["value"] == "" for a in with_forms for f in a["forms"] for v in f["values"]), "skipped fields"
    assert not any(a["forms"] for a in everything if not types[a["appointmentTypeID"]]["formIDs"])


def test_exclude_forms_and_field_filter(api):
    full = get(api, "/appointments", showall="true", max=100_000)
    bare = get(api, "/appointments", showall="true", max=100_000, excludeForms="true")
    assert [a["id"] for a in bare] == [a["id"] for a in full]
    assert not any("forms" in a or "formsText" in a for a in bare)
    assert [{k: v for k, v in a.items() if k not in ("forms", "formsText")} for a in full] == bare
    assert get(api, "/appointments", max=5, excludeForms="false") == get(api, "/appointments", max=5)

    def answered(row, field_id, value):
        return any(v["fieldID"] == field_id and v["value"] == value for f in row["forms"] for v in f["values"])

    expected = [a["id"] for a in full if answered(a, 5501, "Instagram")]
    got = get(api, "/appointments", showall="true", max=100_000, **{"field:5501": "instagram"})
    assert expected and [a["id"] for a in got] == expected
    both = get(api, "/appointments", showall="true", max=100_000, **{"field:5501": "Instagram", "field:5511": "Firm"})
    assert [a["id"] for a in both] == [
        a["id"] for a in full if answered(a, 5501, "Instagram") and answered(a, 5511, "Firm")
    ]
    assert get(api, "/appointments", max=100_000, **{"field:5501": "Carrier pigeon"}) == []


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/appointments", {"showAll": "true"}),  # a typo of showall must not return the default (active) set
        ("/appointments", {"addonIDs": "3301"}),  # documented by Acuity, not emulated
        ("/appointments", {"field:abc": "x"}),
        ("/appointments", {"excludeForms": "yes please"}),
        ("/appointments/1", {"pastFormAnswers": "true"}),
        ("/appointment-types", {"deleted": "true"}),
        ("/calendars", {"max": "5"}),
        ("/me", {"x": "1"}),
        ("/clients", {"email": "a@b.c"}),
        ("/orders", {"minDate": "2026-01-01"}),
        ("/certificates", {"productID": "6103"}),  # documented by Acuity, not emulated
        ("/appointment-addons", {"max": "5"}),
    ],
)
def test_parameters_not_honoured_get_acuity_shaped_400(api, path, params):
    response = api.get(api.base + path, params=params, timeout=10)
    assert response.status_code == 400, response.text
    body = response.json()
    assert set(body) == {"status_code", "message", "error"} and body["status_code"] == 400
    assert next(iter(params)) in body["message"]


# ---- money: coupons, add-ons, codes ----------------------------------------------------------------
def test_coupons_addons_and_package_codes_as_acuity_documents_them(api):
    """A coupon sells below the list price; an add-on changes the price and the duration by its own; a paid order of
    a package issues one code (/certificates), and the buyer's appointments booked with it pay only what it does
    not cover; a code's uses left are its allowance less the appointments it paid for."""
    everything = get(api, "/appointments", showall="true", max=100_000)
    addons = {a["id"]: a for a in get(api, "/appointment-addons")}
    types = {t["id"]: t for t in get(api, "/appointment-types", includeDeleted="true")}
    assert all(set(a) == {"id", "name", "duration", "price", "private"} for a in addons.values())
    for appt in everything:
        kind, extras = types[appt["appointmentTypeID"]], [addons[i] for i in appt["addonIDs"]]
        assert Decimal(appt["price"]) == Decimal(kind["price"]) + sum(Decimal(a["price"]) for a in extras)
        assert int(appt["duration"]) == kind["duration"] + sum(a["duration"] for a in extras)
    coupons = [a for a in everything if Decimal(a["priceSold"]) < Decimal(a["price"])]
    assert coupons and all(a["certificate"] for a in coupons), "a discount comes with its coupon code"
    orders = {o["id"]: o for o in get(api, "/orders", max=10_000)}
    certificates = {c["certificate"]: c for c in get(api, "/certificates")}
    assert {c["orderID"] for c in certificates.values()} == {
        o["id"] for o in orders.values() if o["title"] in CERTIFICATE_PRODUCTS and o["status"] != "unpaid"
    }
    redeemed = [a for a in everything if a["certificate"] in certificates]
    assert len(redeemed) > 10 and {orders[c["orderID"]]["title"] for c in certificates.values()} == set(
        CERTIFICATE_PRODUCTS
    )
    for code, certificate in certificates.items():
        product = CERTIFICATE_PRODUCTS[certificate["name"]]
        used = [a for a in redeemed if a["certificate"] == code and not (a["canceled"] and not a["noShow"])]
        if certificate["type"] == "appointments":
            allowed = dict(product.counts)
            assert {int(k): v for k, v in certificate["remainingCounts"].items()} == {
                key: allowed[key] - sum(a["appointmentTypeID"] == key for a in used) for key in allowed
            }
        for appt in used:  # the code paid for the type; anything on top (add-ons, a balance) is paid apart
            assert Decimal(appt["amountPaid"]) < Decimal(appt["price"])


def test_retired_types_only_with_include_deleted(api):
    active = get(api, "/appointment-types")
    every = get(api, "/appointment-types", includeDeleted="true")
    retired = [t for t in every if not t["active"]]
    assert retired and all(t["active"] for t in active)
    assert [t for t in every if t["active"]] == active
    assert get(api, "/appointment-types", includeDeleted="false") == active
    appointments = get(api, "/appointments", showall="true", max=100_000)
    on_retired = [a for a in appointments if a["appointmentTypeID"] in {t["id"] for t in retired}]
    assert on_retired and all(start_of(a) < NOW - timedelta(days=180) for a in on_retired)
    names = {t["id"]: t["name"] for t in retired}
    assert all(a["type"] == names[a["appointmentTypeID"]] for a in on_retired)


# ---- the other reading of each assumption ---------------------------------------------------------
def serve(readings):
    """A session against a seed account served under `readings` (use as a context manager)."""
    server = SandboxServer(
        {USER: (KEY, build_account("seed", 42, AS_OF, readings=readings, shapes=PLAIN))}, rate_limit=False
    )
    session = requests.Session()
    session.auth = AUTH
    session.base = server.base_url
    return server, session


@pytest.mark.parametrize("zone", ["calendar", "account", "UTC"])
def test_min_max_date_compare_in_the_chosen_zone(api, zone):
    everything = get(api, "/appointments", showall="true", max=100_000)
    tz = {"calendar": None, "account": ZoneInfo("America/New_York"), "UTC": UTC}[zone]

    def day(row):
        return row["datetime"][:10] if tz is None else start_of(row).astimezone(tz).date().isoformat()

    server, session = serve(Readings(date_zone=zone))
    with server:
        for first, last in (("2026-12-01", "2026-12-10"), ("2026-03-08", "2026-03-08")):
            got = get(session, "/appointments", minDate=first, maxDate=last, showall="true", max=10_000)
            assert {a["id"] for a in got} == {a["id"] for a in everything if first <= day(a) <= last}
    readings_differ = {a["id"] for a in everything if a["datetime"][:10] != day(a)}
    assert (zone == "calendar") == (not readings_differ)


def test_ties_within_a_second_in_either_order(api):
    asc = get(api, "/appointments", showall="true", max=100_000, direction="ASC")
    starts = Counter(a["datetime"] for a in asc)
    tied = [a["id"] for a in asc if starts[a["datetime"]] > 1]
    assert tied, "the seed has appointments starting at the same instant"
    server, session = serve(Readings(ties="reverse_id"))
    with server:
        for direction in ("ASC", "DESC"):
            rows = get(session, "/appointments", showall="true", max=100_000, direction=direction)
            keys = [(start_of(a), a["id"]) for a in rows]
            expected = sorted(keys, key=lambda k: (k[0], -k[1]), reverse=direction == "DESC")
            assert keys == expected


def test_order_times_in_utc_and_a_max_ceiling(api):
    orders = get(api, "/orders", max=1000)
    server, session = serve(Readings(order_time_zone="UTC", max_ceiling=25))
    with server:
        utc = get(session, "/orders", max=1000)
        assert len(utc) == 25 and [o["id"] for o in utc] == [o["id"] for o in orders[:25]]
        for local, moved in zip(orders, utc, strict=False):
            at = datetime.strptime(local["time"], "%Y-%m-%d %H:%M").replace(tzinfo=ZoneInfo("America/New_York"))
            assert at.astimezone(UTC).strftime("%Y-%m-%d %H:%M") == moved["time"]
        assert len(get(session, "/appointments", max=100_000)) == 25
    with pytest.raises(ValueError, match="date_zone"):
        Readings(date_zone="client")


# ---- mutations -----------------------------------------------------------------------------------
def test_each_mutation_is_visible_over_http(fresh):
    account, _, session = fresh
    before = account.ground_truth()
    future = [a for a in get(session, "/appointments", max=100_000) if start_of(a) >= NOW]
    target = future[-1]
    new_start = start_of(target) + timedelta(days=3)
    moved = account.reschedule(target["id"], new_start)
    fetched = get(session, f"/appointments/{target['id']}")
    assert fetched == moved and start_of(fetched) == new_start and fetched["date"] != target["date"]
    account.cancel(future[-2]["id"])
    assert get(session, f"/appointments/{future[-2]['id']}")["canceled"] is True
    assert future[-2]["id"] in {a["id"] for a in get(session, "/appointments", canceled="true", max=100_000)}
    missed = next(a for a in get(session, "/appointments", max=100_000, direction="DESC") if start_of(a) < NOW)
    account.cancel(missed["id"], no_show=True)
    fetched = get(session, f"/appointments/{missed['id']}")
    assert (fetched["canceled"], fetched["noShow"]) == (True, True)
    assert missed["id"] in {a["id"] for a in get(session, "/appointments", canceled="true", max=100_000)}
    with pytest.raises(ValueError, match="cannot be a no-show"):
        account.set_no_show(future[-3]["id"])
    account.delete_appointment(future[-4]["id"])
    assert session.get(session.base + f"/appointments/{future[-4]['id']}", timeout=10).status_code == 404
    assert future[-4]["id"] not in {a["id"] for a in get(session, "/appointments", showall="true", max=100_000)}
    booked = account.book(2)
    assert min(b["id"] for b in booked) > max(a["id"] for a in future)
    listed = {a["id"] for a in get(session, "/appointments", max=100_000)}
    assert {b["id"] for b in booked} <= listed
    truth = account.ground_truth()
    assert truth["future_active"] == before["future_active"] - 2 + 2  # canceled, deleted, booked two
    assert truth["future_canceled"] == before["future_canceled"] + 1
    assert truth["status_counts"]["no_show"] == before["status_counts"]["no_show"] + 1
    assert truth["historical_status_counts"]["canceled"] == before["historical_status_counts"]["canceled"]
    unpaid = next(o for o in get(session, "/orders", max=1000) if o["status"] == "unpaid" and o["total"] != "0.00")
    account.pay_order(unpaid["id"])
    assert next(o for o in get(session, "/orders", max=1000) if o["id"] == unpaid["id"])["status"] == "paid"
    assert account.ground_truth()["revenue_total"] == Decimal("5856.00") + Decimal(unpaid["total"])
    account.add_unmatched_order("42.00")
    assert get(session, "/orders", max=1)[0]["total"] == "42.00"
    revenue = account.ground_truth()
    assert revenue["unmatched_revenue"] == Decimal("42.00")
    assert revenue["revenue_total"] == Decimal("5856.00") + Decimal(unpaid["total"]) + Decimal("42.00")
    assert sum(revenue["revenue_by_email"].values()) == revenue["revenue_total"] - revenue["unmatched_revenue"]
    assert account.advance(7) == AS_OF + timedelta(days=7)
    assert account.ground_truth()["future_active"] < truth["future_active"]


def test_email_change_keeps_appointment_text_and_ground_truth_consistent(fresh):
    account, _, session = fresh
    appts = get(session, "/appointments", showall="true", max=100_000)
    person_email = normalise_email(
        next(
            a
            for a in appts
            if a["email"].strip()
            and start_of(a) >= NOW
            and account.ground_truth()["future_match_rules"][a["id"]] == "email"
        )["email"]
    )
    moved = {i for i, r in account.ground_truth()["future_match_rules"].items() if r == "email"}
    changed = account.change_client_email(person_email, "brand.new@example.org")
    assert changed and all(c["email"] == "brand.new@example.org" for c in changed)
    clients = get(session, "/clients")
    assert not any(normalise_email(c["email"]) == person_email for c in clients)
    appts_after = get(session, "/appointments", showall="true", max=100_000)
    assert any(normalise_email(a["email"]) == person_email for a in appts_after)
    assert_intent_holds(account, clients, appts_after, get(session, "/orders", max=10_000), exact=False)
    lost = {a["id"] for a in appts_after if normalise_email(a["email"]) == person_email} & moved
    assert lost and all(account.ground_truth()["future_match_rules"][i] != "email" for i in lost)


def test_mutate_all_then_checker_still_agrees(fresh):
    account, _, session = fresh
    touched = account.mutate_all(7)
    assert set(touched) >= {"rescheduled", "canceled", "deleted", "booked", "paid_order", "email_changed"}
    assert session.get(session.base + f"/appointments/{touched['deleted']}", timeout=10).status_code == 404
    assert get(session, f"/appointments/{touched['canceled']}")["canceled"] is True
    truth = account.ground_truth()
    assert truth["future_ids"] == {a["id"] for a in get(session, "/appointments", max=100_000) if start_of(a) >= NOW}
    paid = [o for o in get(session, "/orders", max=10_000) if o["status"] in ("paid", "delivered")]
    assert truth["revenue_total"] == sum(Decimal(o["total"]) for o in paid), "matched and unmatched revenue"
    no_show = get(session, f"/appointments/{touched['no_show']}")
    assert (no_show["canceled"], no_show["noShow"]) == (True, True)
    assert_intent_holds(
        account,
        get(session, "/clients"),
        get(session, "/appointments", showall="true", max=100_000),
        get(session, "/orders", max=10_000),
        exact=False,
    )


def test_changes_to_old_history_are_served_and_in_ground_truth(fresh):
    """What a rolling reconciliation must find: an edit 200 days back, a cancellation 300, a deletion 400."""
    account, _, session = fresh
    before = account.ground_truth()
    targets = {days: account.appointment_days_old(days) for days in (200, 250, 300, 400)}
    for days, appointment in targets.items():
        assert timedelta(days=days - 1) < NOW - appointment.start <= timedelta(days=days)
        assert not appointment.canceled
    edited_id = account.edit_days_old(200)
    canceled_id = account.cancel_days_old(300)
    deleted_id = account.delete_days_old(400)
    missed_id = account.cancel_days_old(250, no_show=True)
    assert [edited_id, missed_id, canceled_id, deleted_id] == [a.id for a in targets.values()]
    edited = get(session, f"/appointments/{edited_id}")
    assert edited["notes"] == "Edited 200 days later by the studio" and not edited["canceled"]
    assert edited["priceSold"] != edited["price"] or edited["price"] in ("0.00", "0")
    assert get(session, f"/appointments/{canceled_id}")["canceled"] is True
    missed = get(session, f"/appointments/{missed_id}")
    assert (missed["canceled"], missed["noShow"]) == (True, True)
    assert session.get(session.base + f"/appointments/{deleted_id}", timeout=10).status_code == 404
    day = (NOW - timedelta(days=400)).date()
    window = get(
        session,
        "/appointments",
        showall="true",
        max=10_000,
        minDate=(day - timedelta(days=3)).isoformat(),
        maxDate=(day + timedelta(days=3)).isoformat(),
    )
    assert window and deleted_id not in {a["id"] for a in window}
    after = account.ground_truth()
    assert after["appointments"] == before["appointments"] - 1
    assert after["status_by_id"][canceled_id] == "canceled" and after["status_by_id"][missed_id] == "no_show"
    assert deleted_id not in after["status_by_id"]
    assert after["historical_status_counts"] == {
        "scheduled": before["historical_status_counts"]["scheduled"] - 3,
        "canceled": before["historical_status_counts"]["canceled"] + 1,
        "no_show": before["historical_status_counts"]["no_show"] + 1,
    }
    for key in ("future_active", "future_canceled", "future_match_rules", "revenue_total"):
        assert after[key] == before[key]
    with pytest.raises(KeyError):
        account.delete_days_old(2000)


def test_rendered_answers_are_cached_until_the_account_changes(fresh):
    account, server, session = fresh
    paths = ("/appointments?showall=true&max=5000", "/clients", "/orders?max=1000", "/appointment-types")
    first = {p: session.get(session.base + p, timeout=10).content for p in paths}
    hits = server.cache.hits
    assert {p: session.get(session.base + p, timeout=10).content for p in paths} == first
    assert server.cache.hits == hits + len(paths)
    # same answer, parameters spelled differently: one entry
    assert session.get(session.base + "/clients?search=", timeout=10).content == first["/clients"]
    target = next(a for a in json_of(first["/appointments?showall=true&max=5000"]) if not a["canceled"])
    account.cancel(target["id"])
    after = json_of(session.get(session.base + paths[0], timeout=10).content)
    assert next(a for a in after if a["id"] == target["id"])["canceled"] is True
    unpaid = next(o for o in json_of(first["/orders?max=1000"]) if o["status"] == "unpaid")
    account.pay_order(unpaid["id"])
    orders = json_of(session.get(session.base + "/orders?max=1000", timeout=10).content)
    assert next(o for o in orders if o["id"] == unpaid["id"])["status"] == "paid"
    with SandboxServer({USER: (KEY, account)}, rate_limit=False, cache_bytes=0) as uncached:
        body = requests.get(uncached.base_url + paths[0], auth=AUTH, timeout=10).content
        assert json_of(body) == after and uncached.cache.hits == 0


def json_of(body: bytes):
    return json.loads(body)


# ---- limits and faults ---------------------------------------------------------------------------
def test_rate_limit_burst_gets_documented_429():
    account = build_account("seed", 42, AS_OF, shapes=PLAIN)
    for limited in (True, False):
        with SandboxServer({USER: (KEY, account)}, rate_limit=limited) as server:
            session = requests.Session()
            statuses = [session.get(server.base_url + "/me", auth=AUTH, timeout=10) for _ in range(30)]
            throttled = [r for r in statuses if r.status_code == 429]
            if limited:
                assert len(throttled) >= 5
                assert throttled[0].json() == {
                    "status_code": 429,
                    "error": "too_many_requests",
                    "message": "Rate limit reached. Limit 10req/s and 20 concurrent connections.",
                }
                assert "Retry-After" not in throttled[0].headers
                assert sum(1 for s in server.request_log if s[2] == 429) == len(throttled)
            else:
                assert not throttled and len(server.request_log) == 30


def test_concurrency_cap():
    account = build_account("seed", 42, AS_OF, shapes=PLAIN)
    with SandboxServer({USER: (KEY, account)}, rate_limit=True) as server:
        server._limiter._rate = 10_000.0  # isolate the in-flight cap from the per-second bucket
        server._limiter._burst = 10_000
        server.inject(Fault(status=200, times=30, delay=0.5))
        with ThreadPoolExecutor(30) as pool:
            codes = list(
                pool.map(
                    lambda _: requests.get(server.base_url + "/me", auth=AUTH, timeout=10).status_code,
                    range(30),
                )
            )
        assert 429 in codes and 20 <= codes.count(200) < 30


def test_fault_injection(fresh):
    _, server, session = fresh
    server.inject(Fault(status=429, times=2, retry_after=1, path="/appointments"))
    assert session.get(session.base + "/me", timeout=10).status_code == 200
    for _ in range(2):
        response = session.get(session.base + "/appointments", timeout=10)
        assert response.status_code == 429 and response.headers["Retry-After"] == "1"
        assert response.json()["error"] == "too_many_requests"
    assert session.get(session.base + "/appointments", timeout=10).status_code == 200
    server.inject(Fault(status=429, times=1))
    response = session.get(session.base + "/clients", timeout=10)
    assert response.status_code == 429 and "Retry-After" not in response.headers
    server.inject(Fault(status=500, times=2))
    assert [session.get(session.base + "/orders", timeout=10).status_code for _ in range(3)] == [
        500,
        500,
        200,
    ]
    server.inject(Fault(status=200, times=1, delay=0.3))
    started = time.monotonic()
    assert session.get(session.base + "/me", timeout=10).status_code == 200
    assert time.monotonic() - started >= 0.3
    server.inject(Fault(status=200, times=1, body='[{"id": 1,'))
    response = session.get(session.base + "/appointments", timeout=10)
    assert response.status_code == 200
    with pytest.raises(ValueError):
        response.json()
    logged = [entry for entry in server.request_log if entry[1].startswith("/api/v1/appointments")]
    assert [status for _, _, status in logged] == [429, 429, 200, 200]


def test_a_request_is_logged_when_it_arrives_and_its_status_when_answered(fresh):
    """A kill "during the orders request" acts on the log: the entry must be there while the reply is still delayed."""
    _, server, session = fresh
    server.inject(Fault(status=200, times=1, delay=60, path="/orders"))
    address = urlsplit(server.base_url)
    with socket.create_connection((address.hostname, address.port), timeout=10) as held:
        basic = base64.b64encode(f"{USER}:{KEY}".encode())
        held.sendall(b"GET /api/v1/orders HTTP/1.1\r\nHost: sandbox\r\nAuthorization: Basic %s\r\n\r\n" % basic)
        deadline = time.monotonic() + 30
        while not server.request_log and time.monotonic() < deadline:
            time.sleep(0.005)
        assert server.request_log == [("GET", "/api/v1/orders", None)], "logged on arrival, not yet answered"
    assert session.get(session.base + "/me", timeout=10).status_code == 200
    assert server.request_log == [("GET", "/api/v1/orders", None), ("GET", "/api/v1/me", 200)]


# ---- large scenario ------------------------------------------------------------------------------
def test_large_scenario_streams_in_small_memory():
    tracemalloc.start()
    try:
        account = build_account("large", 1, AS_OF, appointments=1_000_000, clients=100_000, orders=200_000)
        with SandboxServer({USER: (KEY, account)}, rate_limit=False) as server:
            params = {"minDate": "2026-06-01", "maxDate": "2026-06-03", "max": 5000, "direction": "ASC"}
            rows = requests.get(server.base_url + "/appointments", params=params, auth=AUTH, timeout=30).json()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 50 * 1024 * 1024
    assert 2000 < len(rows) < 5000
    assert all("2026-06-01" <= r["datetime"][:10] <= "2026-06-03" and not r["canceled"] for r in rows)
    keys = [(start_of(r), r["id"]) for r in rows]
    assert keys == sorted(keys)


def test_large_window_exactness():
    """Serving speed is measured by `make bench`, not asserted here (shared, noisy machines)."""
    account = build_account("large", 3, AS_OF, appointments=1_000_000, clients=100_000, orders=200_000)
    with SandboxServer({USER: (KEY, account)}, rate_limit=False) as server:
        session = requests.Session()
        params = {"minDate": "2026-03-01", "maxDate": "2026-03-31", "max": 5000, "showall": "true"}
        rows = session.get(server.base_url + "/appointments", params=params, auth=AUTH, timeout=30).json()
        assert len(rows) == 5000
        # A narrow window cross-checked against the records themselves, padding days included.
        narrow = session.get(
            server.base_url + "/appointments",
            auth=AUTH,
            timeout=30,
            params={"minDate": "2026-03-08", "maxDate": "2026-03-08", "max": 10_000, "showall": "true"},
        ).json()
        src = account._appointments
        lo = src.first_at_or_after(datetime(2026, 3, 7, tzinfo=UTC))
        hi = src.first_at_or_after(datetime(2026, 3, 10, tzinfo=UTC))
        truth = {
            src.at(i).id for i in range(lo, hi) if account.appointment(src.at(i).id)["datetime"][:10] == "2026-03-08"
        }
        assert {r["id"] for r in narrow} == truth and len(truth) > 500
        streamed = session.get(server.base_url + "/clients", auth=AUTH, timeout=30)
        assert streamed.headers.get("Transfer-Encoding") == "chunked" and len(streamed.json()) == 100_000
        orders = session.get(server.base_url + "/orders", params={"max": 30_000}, auth=AUTH, timeout=30).json()
        assert len(orders) == 30_000 and orders[0]["time"] >= orders[-1]["time"]
        assert orders[0]["id"] == account._orders.id_base + 200_000 - 1  # newest first, nothing materialised


def test_large_mutations_and_ground_truth():
    account = build_account("large", 5, AS_OF, appointments=20_000, clients=2_000, orders=3_000)
    before = account.ground_truth()
    assert before["appointments"] == 20_000 and before["clients"] == before["persons"] == 2_000
    assert before["future_active"] == before["future_matched"] + before["future_unmatched"]
    assert before["revenue_total"] > 0 and before["unmatched_revenue"] > 0 and "future_ids" not in before
    touched = account.mutate_all(3)
    after = account.ground_truth()
    assert after["appointments"] == 20_000 - 1 + 2
    assert after["future_active"] == before["future_active"] - 2 + 2  # canceled, deleted, booked two
    assert after["future_canceled"] == before["future_canceled"] + 1
    assert account.appointment(touched["deleted"]) is None
