"""The "large" scenario: records derived from (seed, index) on demand, never stored.

Appointment i starts at span_start + i*step + jitter (jitter < step), so ids follow time and a date window
is a binary search over the index; memory stays flat however many millions of records the account claims.
"""

from __future__ import annotations

import random
from bisect import bisect_left
from datetime import date, datetime, timedelta

from sandbox.catalog import (
    EMAIL_DOMAINS,
    FIRST_NAMES,
    LAST_NAMES,
    OUTSIDER_LAST_NAMES,
    PRODUCTS,
    RETIRED_TYPES_BEFORE_DAYS,
    US_AREA_CODES,
)
from sandbox.design import assemble, midnight_utc, pick_calendar
from sandbox.records import Appointment, Client, Order

PAST_DAYS = 730
FUTURE_DAYS = 180
APPOINTMENT_ID_BASE = 300_000_000
ORDER_ID_BASE = 50_000_000


_KINDS = {"a": 1, "o": 2}
_MASK = (1 << 64) - 1


def _mix(value: int) -> int:
    """SplitMix64 finaliser: a well-spread 64-bit hash of an integer."""
    value = (value + 0x9E3779B97F4A7C15) & _MASK
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & _MASK
    return value ^ (value >> 31)


def _rng(seed: int, kind: str, index: int) -> random.Random:
    """The generator of one record, a pure function of (seed, kind, index); int seeds are cheap to set up."""
    return random.Random((seed * 4 + _KINDS[kind]) << 40 | index)


class LargeClients:
    """Client c is person c: unique email (except every tenth, which has none) and a unique phone."""

    def __init__(self, seed: int, count: int) -> None:
        self._seed = seed
        self._count = count
        self.person_count = count

    def __len__(self) -> int:
        return self._count

    def at(self, index: int) -> Client:
        """Pure arithmetic on a hash of (seed, index): called for every appointment row, so kept cheap."""
        bits = _mix(self._seed << 40 | index)
        first = FIRST_NAMES[bits % len(FIRST_NAMES)]
        last = LAST_NAMES[(bits >> 8) % len(LAST_NAMES)]
        email = ""
        if index % 10 != 9:
            domain = EMAIL_DOMAINS[(bits >> 24) % len(EMAIL_DOMAINS)]
            email = f"{first}.{last}.{index}@{domain}".replace("'", "")
            email = f" {email.title()} " if bits >> 32 & 7 == 0 else email
        area = US_AREA_CODES[index % len(US_AREA_CODES)]
        line = f"{2_000_000 + index // len(US_AREA_CODES):07d}"
        shape = bits >> 40 & 3
        phone = (
            f"({area}) {line[:3]}-{line[3:]}",
            f"{area}{line}",
            f"+1 {area} {line[:3]} {line[3:]}",
            f"{area}.{line[:3]}.{line[3:]}",
        )[shape]
        return Client(first, last, email, phone, "", index)

    def primary_client(self, person: int) -> int:
        return person


class LargeAppointments:
    def __init__(self, seed: int, as_of: date, count: int, clients: LargeClients) -> None:
        self._seed = seed
        self._count = count
        self._clients = clients
        self._now = midnight_utc(as_of)
        self._span_start = self._now - timedelta(days=PAST_DAYS)
        self._span = (PAST_DAYS + FUTURE_DAYS) * 86_400
        self._step = self._span // max(count, 1)
        self.id_base = APPOINTMENT_ID_BASE

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, index: int) -> datetime:
        """Start of appointment `index`; lets bisect search the index space without materialising it."""
        return self._start(index, _rng(self._seed, "a", index))

    def _start(self, index: int, rng: random.Random) -> datetime:
        jitter = rng.randrange(self._step) if self._step else 0
        moment = self._span_start + timedelta(seconds=index * self._span // self._count + jitter)
        return moment.replace(second=0)

    def first_at_or_after(self, moment: datetime) -> int:
        return bisect_left(self, moment, 0, self._count)

    def at(self, index: int) -> Appointment:
        rng = _rng(self._seed, "a", index)
        start = self._start(index, rng)
        calendar = pick_calendar(rng)
        if rng.random() < 0.02:
            first, last = rng.choice(FIRST_NAMES), rng.choice(OUTSIDER_LAST_NAMES)
            contact, person = (first, last, f"guest{index}@walkin.example", ""), None
        else:
            client = self._clients.at(rng.randrange(len(self._clients)))
            contact = (client.first_name, client.last_name, client.email, client.phone)
            person = client.person
        canceled = rng.random() < 0.08
        # no-shows are canceled appointments in the past (Acuity marks them through its cancel call)
        no_show = not canceled and start < self._now and rng.random() < 0.04
        created = min(start - timedelta(days=rng.randint(1, 60)), self._now - timedelta(hours=1))
        return assemble(
            rng,
            appointment_id=self.id_base + index,
            start=start,
            created=created,
            calendar=calendar,
            contact=contact,
            person=person,
            canceled=canceled,
            no_show=no_show,
            allow_retired=start < self._now - timedelta(days=RETIRED_TYPES_BEFORE_DAYS),
        )


class LargeOrders:
    def __init__(self, seed: int, as_of: date, count: int, clients: LargeClients) -> None:
        self._seed = seed
        self._count = count
        self._clients = clients
        self._span_start = midnight_utc(as_of) - timedelta(days=PAST_DAYS)
        self._span = PAST_DAYS * 86_400
        self.id_base = ORDER_ID_BASE

    def __len__(self) -> int:
        return self._count

    def at(self, index: int) -> Order:
        """Hash arithmetic rather than a seeded Random: /orders streams up to every order in one response."""
        bits = _mix((self._seed * 4 + _KINDS["o"]) << 40 | index)
        title, total = PRODUCTS[bits % len(PRODUCTS)]
        status = ("paid",) * 5 + ("delivered",) + ("unpaid",) * 4
        moment = self._span_start + timedelta(minutes=index * self._span // self._count // 60)
        if (bits >> 16) % 100 == 0:
            first, last, email, phone, person = "Walk-in", "Guest", "", "", None
        else:
            client = self._clients.at((bits >> 24) % len(self._clients))
            first, last, email, phone = client.first_name, client.last_name, client.email, client.phone
            person = client.person
        return Order(
            id=self.id_base + index,
            time=moment,
            total=total,
            status=status[(bits >> 8) % 10],
            first_name=first,
            last_name=last,
            email=email,
            phone=phone,
            title=title,
            notes="",
            person=person,
        )
