"""The Acuity sandbox over real HTTP: determinism, the seed tenant's exact numbers, API semantics, mutations,
limits, faults and the streaming large scenario. The matching checker below is an independent copy of the
warehouse rules: it proves every record's designed intent is what the rules actually produce."""

from __future__ import annotations

import bisect
import re
import time
import tracemalloc
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import requests

from sandbox import Fault, SandboxServer, build_account

AS_OF = date(2026, 11, 24)
NOW = datetime(2026, 11, 24, tzinfo=UTC)
USER, KEY = "10001", "sandbox-key"
AUTH = (USER, KEY)


def start_of(appt: dict) -> datetime:
    return datetime.strptime(appt["datetime"], "%Y-%m-%dT%H:%M:%S%z")


@pytest.fixture(scope="module")
def seed_account():
    return build_account("seed", 42, AS_OF)


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
    account = build_account("seed", 42, AS_OF)
    with SandboxServer({USER: (KEY, account)}, rate_limit=False) as server:
        session = requests.Session()
        session.auth = AUTH
        session.base = server.base_url
        yield account, server, session


# ---- independent matching checker ----------------------------------------------------------------
def n_email(raw):
    value = (raw or "").strip().lower()
    return value or None


def n_phone(raw):
    text = (raw or "").strip()
    digits = re.sub(r"\D", "", text)
    if not text.startswith("+"):
        if digits.startswith("00"):
            digits = digits[2:]
        elif len(digits) == 10:
            digits = "1" + digits
    return digits or None


def n_name(first, last):
    return f"{(first or '').strip().lower()} {(last or '').strip().lower()}"


class Checker:
    def __init__(self, clients: list[dict]):
        members: list[list[int]] = []
        by_email: dict[str, int] = {}
        for i, c in enumerate(clients):
            e = n_email(c["email"])
            if e:
                if e not in by_email:
                    by_email[e] = len(members)
                    members.append([])
                members[by_email[e]].append(i)
        phone_owner = defaultdict(set)
        for k, m in enumerate(members):
            for i in m:
                if n_phone(clients[i]["phone"]):
                    phone_owner[n_phone(clients[i]["phone"])].add(k)
        for i, c in enumerate(clients):
            if n_email(c["email"]) is None:
                owners = phone_owner.get(n_phone(c["phone"]), set())
                if len(owners) == 1:
                    members[next(iter(owners))].append(i)
                else:
                    members.append([i])
        self.members = members
        self.email = by_email
        self.phone = defaultdict(set)
        self.name = defaultdict(set)
        for k, m in enumerate(members):
            for i in m:
                if n_phone(clients[i]["phone"]):
                    self.phone[n_phone(clients[i]["phone"])].add(k)
                self.name[n_name(clients[i]["firstName"], clients[i]["lastName"])].add(k)

    def match(self, record: dict):
        e = n_email(record["email"])
        if e in self.email:
            return self.email[e], "email"
        for rule, owners in (
            ("phone", self.phone.get(n_phone(record["phone"]), set())),
            ("client_id", self.name.get(n_name(record["firstName"], record["lastName"]), set())),
        ):
            if len(owners) == 1:
                return next(iter(owners)), rule
        return None, "unmatched"


def assert_intent_holds(account, clients_json, appointments_json, orders_json):
    persons_of_client = [c.person for c in account.iter_clients()]
    checker = Checker(clients_json)
    contact_person = {}
    for k, members in enumerate(checker.members):
        persons = {persons_of_client[i] for i in members}
        assert len(persons) == 1, f"contact {k} mixes persons {persons}"
        contact_person[k] = persons.pop()
    assert len(contact_person) == len(set(persons_of_client)), "a person is split across contacts"
    intents = {a.id: a for a in account.iter_appointments()}
    assert len(intents) == len(appointments_json)
    for row in appointments_json:
        contact, rule = checker.match(row)
        intent = intents[row["id"]]
        assert (rule, contact_person.get(contact)) == (intent.rule, intent.person), row
    order_intents = {o.id: o for o in account.iter_orders()}
    for row in orders_json:
        contact, rule = checker.match(row)
        intent = order_intents[row["id"]]
        assert (rule, contact_person.get(contact)) == (intent.rule, intent.person), row
    return Counter(intent.rule for intent in intents.values())


# ---- determinism and the seed tenant -------------------------------------------------------------
def test_same_inputs_give_identical_responses_and_other_seed_differs():
    accounts = {
        "1": ("k", build_account("seed", 42, AS_OF)),
        "2": ("k", build_account("seed", 42, AS_OF)),
        "3": ("k", build_account("seed", 43, AS_OF)),
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
    assert min(start_of(a) for a in everything) >= NOW - timedelta(days=365)
    assert truth["future_matched"] == 99 and truth["future_unmatched"] == 1
    assert sum(1 for r in truth["future_match_rules"].values() if r == "unmatched") == 1
    assert truth["future_ids"] == {a["id"] for a in future}
    assert truth["future_canceled"] == 10
    assert truth["historical"] == sum(1 for a in everything if start_of(a) < NOW)
    assert sum(truth["future_by_month"].values()) == 100
    past = [a for a in everything if start_of(a) < NOW]
    assert 0.05 < sum(a["canceled"] for a in past) / len(past) < 0.11
    assert 0.02 < sum(a["noShow"] for a in past) / len(past) < 0.06
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
    emails = Counter(n_email(c["email"]) for c in clients if c["email"])
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
    assert all(t["active"] and isinstance(t["price"], str) and t["type"] == "service" for t in types)
    assert len(get(api, "/appointment-types", includeDeleted="true")) == len(types) + 1
    assert api.get(api.base + "/nope", timeout=10).json()["status_code"] == 404
    response = api.post(api.base + "/appointments", json={}, timeout=10)
    assert response.status_code == 405 and response.json()["status_code"] == 405
    response = api.get(api.base + "/appointments", params={"minDate": "tomorrow-ish"}, timeout=10)
    assert response.status_code == 400 and set(response.json()) == {"status_code", "message", "error"}
    assert response.headers["Content-Type"] == "application/json"


def test_max_truncates_silently_and_defaults_to_100(api):
    assert len(get(api, "/appointments")) == 100
    assert len(get(api, "/appointments", max=7)) == 7
    assert 1800 < len(get(api, "/appointments", max=1_000_000)) < 2000


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
    assert [p["amount"] for p in payments] == [paid["amountPaid"]]
    unpaid = next(a for a in get(api, "/appointments", max=500) if a["amountPaid"] == "0.00")
    assert get(api, f"/appointments/{unpaid['id']}/payments") == []
    assert api.get(api.base + "/appointments/1", timeout=10).json()["status_code"] == 404


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
    account.set_no_show(future[-3]["id"])
    assert get(session, f"/appointments/{future[-3]['id']}")["noShow"] is True
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
    unpaid = next(o for o in get(session, "/orders", max=1000) if o["status"] == "unpaid" and o["total"] != "0.00")
    account.pay_order(unpaid["id"])
    assert next(o for o in get(session, "/orders", max=1000) if o["id"] == unpaid["id"])["status"] == "paid"
    assert account.ground_truth()["revenue_total"] == Decimal("5856.00") + Decimal(unpaid["total"])
    account.add_unmatched_order("42.00")
    assert get(session, "/orders", max=1)[0]["total"] == "42.00"
    assert account.ground_truth()["unmatched_revenue"] == Decimal("42.00")
    assert account.advance(7) == AS_OF + timedelta(days=7)
    assert account.ground_truth()["future_active"] < truth["future_active"]


def test_email_change_keeps_appointment_text_and_ground_truth_consistent(fresh):
    account, _, session = fresh
    appts = get(session, "/appointments", showall="true", max=100_000)
    person_email = n_email(
        next(
            a
            for a in appts
            if a["email"].strip()
            and start_of(a) >= NOW
            and account.ground_truth()["future_match_rules"][a["id"]] == "email"
        )["email"]
    )
    changed = account.change_client_email(person_email, "brand.new@example.org")
    assert changed and all(c["email"] == "brand.new@example.org" for c in changed)
    clients = get(session, "/clients")
    assert not any(n_email(c["email"]) == person_email for c in clients)
    appts_after = get(session, "/appointments", showall="true", max=100_000)
    assert any(n_email(a["email"]) == person_email for a in appts_after)
    assert_intent_holds(account, clients, appts_after, get(session, "/orders", max=10_000))


def test_mutate_all_then_checker_still_agrees(fresh):
    account, _, session = fresh
    touched = account.mutate_all(7)
    assert set(touched) >= {"rescheduled", "canceled", "deleted", "booked", "paid_order", "email_changed"}
    assert session.get(session.base + f"/appointments/{touched['deleted']}", timeout=10).status_code == 404
    assert get(session, f"/appointments/{touched['canceled']}")["canceled"] is True
    truth = account.ground_truth()
    assert truth["future_ids"] == {a["id"] for a in get(session, "/appointments", max=100_000) if start_of(a) >= NOW}
    assert_intent_holds(
        account,
        get(session, "/clients"),
        get(session, "/appointments", showall="true", max=100_000),
        get(session, "/orders", max=10_000),
    )


# ---- limits and faults ---------------------------------------------------------------------------
def test_rate_limit_burst_gets_documented_429():
    account = build_account("seed", 42, AS_OF)
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
    account = build_account("seed", 42, AS_OF)
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
