"""Deterministic account generation: (scenario, seed, as_of[, sizes]) -> Account.

The "seed" scenario imitates the real tenant: 650 client rows, ~2,000 appointments over 18 months with exactly
100 future active ones (99 matchable), and $5,856.00 of paid orders from 17 persons. Every appointment and order is
designed for an intended person and matching rule, and the design is verified against the identity rules, so
ground truth is a fact about the data rather than an opinion of whichever matcher runs on it. The records keep
only the person; the rule is the oracle's (sandbox/matching.py) answer, checked here against the design.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sandbox.account import Account
from sandbox.catalog import (
    APPOINTMENT_TYPES,
    CALENDARS,
    CLIENT_NOTES,
    CUSTOM_PRODUCT,
    EMAIL_DOMAINS,
    FIRST_NAMES,
    FREE_PRODUCT,
    LAST_NAMES,
    ORDER_NOTES,
    OUTSIDER_LAST_NAMES,
    PRODUCTS,
    RETIRED_TYPES_BEFORE_DAYS,
    US_AREA_CODES,
    WORK_DOMAINS,
)
from sandbox.design import assemble, certificate_of, local_slot, midnight_utc, pick_calendar, redeem, slot_between
from sandbox.large import LargeAppointments, LargeClients, LargeOrders
from sandbox.matching import person_index
from sandbox.readings import Readings
from sandbox.records import Appointment, Calendar, Client, Order
from sandbox.shapes import REAL, Shapes
from sandbox.sources import ListAppointments, ListClients, ListOrders

SEED_CLIENTS = 650
SEED_PAST_APPOINTMENTS = 1890
# 18 months of history: older than the live window (90 days) and old enough that a reconciliation test can change an
# appointment 400 days old.
SEED_PAST_DAYS = 540
SEED_FUTURE_CANCELED = 10
# (first day, end day exclusive, count) of future active appointments relative to as_of, like the real tenant.
SEED_FUTURE_BUCKETS = ((0, 30, 57), (30, 60, 33), (60, 90, 5), (90, 210, 5))
SEED_FUTURE_RULES = {"email": 88, "phone": 6, "client_id": 5, "unmatched": 1}
SEED_REVENUE = Decimal("5856.00")
SEED_REVENUE_PERSONS = 17
# Person kinds and how many of each; the rest are plain (email + unique phone).
SEED_KINDS = {"dup_case": 5, "dup_phone": 3, "household": 2, "no_email": 62, "no_phone": 5}
LARGE_DEFAULTS = {"appointments": 100_000, "clients": 10_000, "orders": 20_000}
# the seed account sends the shapes real answers take, each on about one record in five (sandbox/shapes.py)
SEED_SHAPES = Shapes(REAL, every=5)
_TYPES = {t.id: t for t in APPOINTMENT_TYPES}
_CALENDARS = {c.id: c for c in CALENDARS}


def build_account(
    scenario: str,
    seed: int,
    as_of: date,
    *,
    appointments: int | None = None,
    clients: int | None = None,
    orders: int | None = None,
    readings: Readings | None = None,
    shapes: Shapes | None = None,
) -> Account:
    """Build an account; the same arguments always give byte-identical API responses.

    `readings` switches the sandbox's assumptions where Acuity's docs are silent (sandbox/readings.py); `shapes` the
    real answers' shapes it sends (sandbox/shapes.py: the seed account sends SEED_SHAPES unless told otherwise, the
    large one none).
    """
    if scenario == "seed":
        if appointments is not None or clients is not None or orders is not None:
            raise ValueError("the seed scenario has fixed sizes")
        account = _SeedBuilder(seed, as_of).build()
        account.readings = readings or account.readings
        account.shapes = shapes if shapes is not None else SEED_SHAPES
        return account
    if scenario == "large":
        sizes = {
            "appointments": appointments or LARGE_DEFAULTS["appointments"],
            "clients": clients or LARGE_DEFAULTS["clients"],
            "orders": orders or LARGE_DEFAULTS["orders"],
        }
        client_source = LargeClients(seed, sizes["clients"])
        return Account(
            scenario=scenario,
            seed=seed,
            as_of=as_of,
            appointments=LargeAppointments(seed, as_of, sizes["appointments"], client_source),
            clients=client_source,
            orders=LargeOrders(seed, as_of, sizes["orders"], client_source),
            exhaustive=False,
            readings=readings,
            shapes=shapes,
        )
    raise ValueError(f"unknown scenario {scenario!r}")


@dataclass
class _Person:
    first: str
    last: str
    email: str | None
    phone: str | None  # normalised digits, e.g. 12125550123 or 442079460958
    kind: str
    emails: list[str] = field(default_factory=list)  # as typed on this person's client records


class _SeedBuilder:
    def __init__(self, seed: int, as_of: date) -> None:
        self.seed = seed
        self.rng = random.Random(f"seed:{seed}")
        self.as_of = as_of
        self.now = midnight_utc(as_of)
        self.used_phones: set[str] = set()
        self.used_emails: set[str] = set()

    def build(self) -> Account:
        persons = self._persons()
        clients = self._clients(persons)
        index = person_index(clients)  # raises if a contact would merge two persons
        if len(index.contact_person) != len(persons):
            raise RuntimeError("seed design error: contacts do not partition persons")
        self.persons, self.index = persons, index
        contacts = index.contacts
        eligible = {
            "email": [i for i, p in enumerate(persons) if p.email],
            "phone": [i for i, p in enumerate(persons) if p.phone and contacts.phone_owners(p.phone) == 1],
            "client_id": [i for i, p in enumerate(persons) if contacts.name_owners(p.first, p.last) == 1],
        }
        self.weights = [self.rng.choice((1, 1, 1, 2, 3, 5, 8)) for _ in persons]
        self.eligible = eligible
        appointments = self._appointments()
        orders = self._orders()
        booked = appointments + self._package_visits(orders, appointments[0].id + len(appointments))
        redeemed = _redeem(booked, orders)
        return Account(
            scenario="seed",
            seed=self.seed,
            as_of=self.as_of,
            appointments=ListAppointments(booked[: len(appointments)]),
            clients=ListClients(clients),
            orders=ListOrders(orders),
            exhaustive=True,
            booked=booked[len(appointments) :],
            redeemed=redeemed,
        )

    # ---- persons and clients -----------------------------------------------------------------------------
    def _persons(self) -> list[_Person]:
        rng = self.rng
        count = SEED_CLIENTS - SEED_KINDS["dup_case"] - SEED_KINDS["dup_phone"]
        kinds = [k for k, n in SEED_KINDS.items() for _ in range(n)]
        kinds += ["plain"] * (count - len(kinds))
        rng.shuffle(kinds)
        persons = []
        household_phone = None
        for kind in kinds:
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            email = None if kind == "no_email" else self._new_email(first, last, EMAIL_DOMAINS)
            phone = None if kind == "no_phone" else self._new_phone()
            if kind == "household":
                household_phone = household_phone or phone
                phone = household_phone
            persons.append(_Person(first, last, email, phone, kind))
        return persons

    def _clients(self, persons: list[_Person]) -> list[Client]:
        rng = self.rng
        clients = []
        for number, person in enumerate(persons):
            records = [(self._dirty_email(person.email), person.phone)]
            if person.kind == "dup_case":
                records.append((person.email.upper() if person.email else "", person.phone))
            elif person.kind == "dup_phone":
                records.append(("", person.phone))
            for email, phone in records:
                person.emails.append(email)
                notes = rng.choice(CLIENT_NOTES) if rng.random() < 0.15 else ""
                clients.append(Client(person.first, person.last, email, self._format_phone(phone), notes, number))
        clients.sort(key=lambda c: (c.last_name.lower(), c.first_name.lower(), c.email.strip().lower()))
        return clients

    def _new_email(self, first: str, last: str, domains: tuple[str, ...]) -> str:
        rng = self.rng
        while True:
            local = (
                rng.choice(
                    (
                        f"{first}.{last}",
                        f"{first[0]}{last}",
                        f"{first}{last}{rng.randint(1, 99)}",
                        f"{first}_{last}{rng.randint(70, 99)}",
                    )
                )
                .lower()
                .replace("'", "")
            )
            email = f"{local}@{rng.choice(domains)}"
            if email not in self.used_emails:
                self.used_emails.add(email)
                return email

    def _new_phone(self) -> str:
        rng = self.rng
        while True:
            if rng.random() < 0.03:
                phone = f"44207946{rng.randrange(10_000):04d}"
            else:
                phone = f"1{rng.choice(US_AREA_CODES)}{rng.randint(200, 999)}{rng.randrange(10_000):04d}"
            if phone not in self.used_phones:
                self.used_phones.add(phone)
                return phone

    def _format_phone(self, digits: str | None) -> str:
        """Render digits in one of the shapes people really type; every shape normalises back to `digits`."""
        if digits is None:
            return ""
        if digits.startswith("44"):
            n = digits[2:]
            return self.rng.choice((f"+44 {n[:2]} {n[2:6]} {n[6:]}", f"0044 {n[:2]} {n[2:6]} {n[6:]}", f"+44{n}"))
        n = digits[1:]
        a, b, c = n[:3], n[3:6], n[6:]
        return self.rng.choice(
            (
                f"({a}) {b}-{c}",
                f"{a}-{b}-{c}",
                f"+1 {a} {b} {c}",
                n,
                f"{a}.{b}.{c}",
                f"1-{a}-{b}-{c}",
                f"+1 ({a}) {b}-{c}",
            )
        )

    def _dirty_email(self, email: str | None) -> str:
        if email is None:
            return ""
        roll = self.rng.random()
        if roll < 0.7:
            return email
        local, domain = email.split("@")
        titled = ".".join(part.capitalize() for part in local.split(".")) + "@" + domain.capitalize()
        return self.rng.choice((f" {titled} ", titled, f"{email} ", f" {email}", email.upper()))

    def _dirty_name(self, name: str) -> str:
        roll = self.rng.random()
        return name.lower() if roll < 0.04 else f"{name} " if roll < 0.08 else name

    # ---- who is on a record ------------------------------------------------------------------------------
    def _pick_person(self, rule: str) -> int:
        pool = self.eligible[rule]
        return self.rng.choices(pool, weights=[self.weights[i] for i in pool])[0]

    def _contact(self, person: int | None, rule: str) -> tuple[str, str, str, str]:
        """(first, last, email, phone) as typed on a booking/order, built so `rule` is what resolves it."""
        rng = self.rng
        if person is None:
            first, last = rng.choice(FIRST_NAMES), rng.choice(OUTSIDER_LAST_NAMES)
            email = rng.choice(("", self._unknown_email(first, last)))
            return first, last, email, rng.choice(("", self._format_phone(self._new_phone())))
        p = self.persons[person]
        first, last = self._dirty_name(p.first), self._dirty_name(p.last)
        if rule == "email":
            email = self._dirty_email(rng.choice([e for e in p.emails if e]).strip().lower())
            return first, last, email, rng.choice(("", self._format_phone(p.phone)))
        email = rng.choice(("", self._unknown_email(p.first, p.last)))
        if rule == "phone":
            return first, last, email, self._format_phone(p.phone)
        phone = (
            self._format_phone(p.phone)
            if p.kind == "household"
            else rng.choice(("", self._format_phone(self._new_phone())))
        )
        return first, last, email, phone

    def _unknown_email(self, first: str, last: str) -> str:
        return self._new_email(first, last, WORK_DOMAINS)

    def _checked(self, contact: tuple[str, str, str, str], person: int | None, rule: str) -> None:
        if self.index.resolve(*contact) != (person, rule):
            raise RuntimeError(f"seed design error: {contact} does not resolve to {(person, rule)}")

    # ---- appointments ------------------------------------------------------------------------------------
    def _appointments(self) -> list[Appointment]:
        rng = self.rng
        plans: list[tuple[datetime, Calendar, str, bool, bool]] = []  # start, calendar, rule, canceled, no_show
        future_rules = [r for r, n in SEED_FUTURE_RULES.items() for _ in range(n)]
        rng.shuffle(future_rules)
        for first_day, end_day, count in SEED_FUTURE_BUCKETS:
            low, high = self.now + timedelta(days=first_day), self.now + timedelta(days=end_day)
            starts = self._dst_starts(low, high, 2 if end_day - first_day > 60 else 0)
            while len(starts) < count:
                calendar = pick_calendar(rng)
                starts.append((slot_between(rng, calendar, low, high), calendar))
            plans += [(start, cal, future_rules.pop(), False, False) for start, cal in starts]
        for _ in range(SEED_FUTURE_CANCELED):
            calendar = pick_calendar(rng)
            start = slot_between(rng, calendar, self.now, self.now + timedelta(days=90))
            plans.append((start, calendar, self._past_rule(), True, False))
        low = self.now - timedelta(days=SEED_PAST_DAYS)
        past = self._dst_starts(low, self.now, 8)
        while len(past) < SEED_PAST_APPOINTMENTS:
            calendar = pick_calendar(rng)
            past.append((slot_between(rng, calendar, low, self.now), calendar))
        for start, calendar in past:
            canceled = rng.random() < 0.08
            # a no-show is marked through the cancel call: canceled and noShow, counted once, as a no-show
            no_show = not canceled and rng.random() < 0.043
            plans.append((start, calendar, self._past_rule(), canceled or no_show, no_show))
        plans.sort(key=lambda plan: plan[0])
        id_base = rng.randrange(600_000_000, 900_000_000)
        return [self._appointment(id_base + number, *plan) for number, plan in enumerate(plans)]

    def _past_rule(self) -> str:
        return self.rng.choices(("email", "phone", "client_id", "unmatched"), weights=(86, 7, 5, 2))[0]

    def _dst_starts(self, low: datetime, high: datetime, count: int) -> list[tuple[datetime, Calendar]]:
        """Up to `count` starts a day either side of DST changes in [low, high), so offsets flip in data."""
        starts = []
        for calendar in CALENDARS:
            for change in _dst_changes(calendar, low.date(), high.date()):
                for day in (change - timedelta(days=1), change + timedelta(days=1)):
                    start = local_slot(day, calendar, self.rng)
                    if low <= start < high and len(starts) < count:
                        starts.append((start, calendar))
        return starts

    def _appointment(
        self,
        appointment_id: int,
        start: datetime,
        calendar: Calendar,
        rule: str,
        canceled: bool,
        no_show: bool,
    ) -> Appointment:
        rng = self.rng
        person = None if rule == "unmatched" else self._pick_person(rule)
        contact = self._contact(person, rule)
        self._checked(contact, person, rule)
        created = start - timedelta(days=rng.randint(1, 60), minutes=rng.randrange(1440))
        if created >= self.now:
            created = self.now - timedelta(minutes=rng.randrange(60, 4000))
        return assemble(
            rng,
            appointment_id=appointment_id,
            start=start,
            created=created,
            calendar=calendar,
            contact=contact,
            person=person,
            canceled=canceled,
            no_show=no_show,
            allow_retired=start < self.now - timedelta(days=RETIRED_TYPES_BEFORE_DAYS),
        )

    def _package_visits(self, orders: list[Order], first_id: int) -> list[Appointment]:
        """Past appointments package buyers booked to use their codes: about half of what each code allows, between
        the order and as-of (or its expiry). Drawn from a generator of their own, after everything else, so the rest
        of the account is what it was before packages were used; their ids follow all others', as later bookings'."""
        rng = random.Random(f"seed:{self.seed}:package-visits")
        visits: list[Appointment] = []
        for certificate in sorted(filter(None, map(certificate_of, orders)), key=lambda c: (c.issued, c.id)):
            person = self.persons[certificate.person] if certificate.person is not None else None
            end = min(filter(None, (certificate.expires, self.now)))
            if person is None or not person.email or end - certificate.issued < timedelta(days=2):
                continue
            allowed = certificate.product.counts or tuple((type_id, 1) for type_id in certificate.product.types)
            for type_id, count in allowed:
                kind = _TYPES[type_id]
                for _ in range(sum(rng.random() < 0.5 for _ in range(count))):
                    calendar = _CALENDARS[rng.choice(kind.calendar_ids)]
                    start = slot_between(rng, calendar, certificate.issued + timedelta(days=1), end)
                    contact = (person.first, person.last, person.email, "")
                    self._checked(contact, certificate.person, "email")
                    visits.append(
                        assemble(
                            rng,
                            appointment_id=0,
                            start=start,
                            created=max(certificate.issued, start - timedelta(days=rng.randint(1, 14))),
                            calendar=calendar,
                            contact=contact,
                            person=certificate.person,
                            kind=kind,
                        )
                    )
        visits.sort(key=lambda appt: appt.start)
        return [replace(appt, id=first_id + number) for number, appt in enumerate(visits)]

    # ---- orders ------------------------------------------------------------------------------------------
    def _orders(self) -> list[Order]:
        rng = self.rng
        fully_eligible = sorted(
            set(self.eligible["email"]) & set(self.eligible["phone"]) & set(self.eligible["client_id"])
        )
        buyers = rng.sample(fully_eligible, SEED_REVENUE_PERSONS)
        amounts = self._revenue_amounts()
        paid_rules = ["phone", "phone", "client_id"] + ["email"] * (len(amounts) - 3)
        rng.shuffle(paid_rules)
        specs: list[tuple[int | None, str, str, str, str]] = [
            (
                buyers[i] if i < len(buyers) else rng.choice(buyers),
                title,
                total,
                rng.choice(("paid", "paid", "delivered")),
                paid_rules[i],
            )
            for i, (title, total) in enumerate(amounts)
        ]
        specs.append((buyers[0], *FREE_PRODUCT, "paid", "email"))
        others = [p for p in self.eligible["email"] if p not in buyers]
        for _ in range(16):
            buyer = rng.choice(others if rng.random() < 0.75 else buyers)
            specs.append((buyer, *rng.choice(PRODUCTS), "unpaid", "email"))
        specs.append((None, *rng.choice(PRODUCTS), "unpaid", "unmatched"))
        timed = sorted(
            ((self.now - timedelta(minutes=rng.randrange(1, 365 * 1440)), spec) for spec in specs),
            key=lambda item: item[0],
        )
        id_base = rng.randrange(10_000_000, 30_000_000)
        orders = []
        for number, (moment, (person, title, total, status, rule)) in enumerate(timed):
            contact = self._contact(person, rule)
            self._checked(contact, person, rule)
            orders.append(
                Order(
                    id=id_base + number,
                    time=moment,
                    total=total,
                    status=status,
                    first_name=contact[0],
                    last_name=contact[1],
                    email=contact[2],
                    phone=contact[3],
                    title=title,
                    notes=rng.choice(ORDER_NOTES) if rng.random() < 0.2 else "",
                    person=person,
                )
            )
        return orders

    def _revenue_amounts(self) -> list[tuple[str, str]]:
        """Catalog orders plus one custom package that makes paid revenue exactly SEED_REVENUE."""
        rng = self.rng
        while True:
            picks = [rng.choice(PRODUCTS) for _ in range(30)]
            rest = SEED_REVENUE - sum(Decimal(total) for _, total in picks)
            if Decimal(100) <= rest <= Decimal(900):
                break
        text = f"{rest:.2f}" if rest != rest.to_integral() or rng.random() < 0.5 else str(int(rest))
        picks.append((CUSTOM_PRODUCT, text))
        rng.shuffle(picks)
        return picks


def _redeem(appointments: list[Appointment], orders: list[Order]) -> dict[str, tuple[int, ...]]:
    """Book each code a paid order issued on its buyer's appointments after the order, oldest first, until it is used
    up; changes ``appointments`` in place and returns the appointment ids each code paid for. An appointment takes one
    code (a coupon's or a package's), as in Acuity."""
    by_id = {appt.id: number for number, appt in enumerate(appointments)}
    redeemed: dict[str, tuple[int, ...]] = {}
    for certificate in sorted(filter(None, map(certificate_of, orders)), key=lambda c: (c.issued, c.id)):
        if certificate.person is None:
            continue
        booked = [
            a
            for a in appointments
            if a.person == certificate.person and a.certificate is None and a.start >= certificate.issued
        ]
        used = list(redeem(certificate, booked))
        for appt in used:
            appointments[by_id[appt.id]] = appt
        redeemed[certificate.code] = tuple(appt.id for appt in used)
    return redeemed


def _dst_changes(calendar: Calendar, first: date, last: date) -> list[date]:
    """Days on which the calendar's UTC offset changes (between this UTC midnight and the next)."""
    tz = ZoneInfo(calendar.timezone)
    changes = []
    day = first
    while day < last:
        here = midnight_utc(day).astimezone(tz).utcoffset()
        there = midnight_utc(day + timedelta(days=1)).astimezone(tz).utcoffset()
        if here != there:
            changes.append(day)
        day += timedelta(days=1)
    return changes
