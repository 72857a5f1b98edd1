"""An emulated Acuity account: the queries the server answers, the mutations tests apply, and ground truth.

Base records come from a source (in memory or derived per index); every change lives in small override maps,
so a million-appointment account stays cheap and a mutation is visible to the very next request.
"""

from __future__ import annotations

import heapq
import itertools
import random
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import islice
from typing import Any
from zoneinfo import ZoneInfo

from sandbox import render
from sandbox.catalog import ADDONS, APPOINTMENT_TYPES, CALENDARS, PROFILE
from sandbox.design import (
    assemble,
    certificate_of,
    local_slot,
    midnight_utc,
    pick_calendar,
    price_text,
    redemptions,
    uses_left,
)
from sandbox.matching import RULES, normalise_email, person_index
from sandbox.readings import Readings
from sandbox.records import Appointment, Certificate, Client, Order
from sandbox.seeds import Seeds
from sandbox.shapes import Shapes
from sandbox.sources import AppointmentSource, ClientSource, OrderSource

_CALENDARS = {c.id: c for c in CALENDARS}
_TYPES = {t.id: t for t in APPOINTMENT_TYPES}
_ZONES = {c.id: ZoneInfo(c.timezone) for c in CALENDARS}
# Local dates span UTC-12..UTC+14, so a day-padded UTC window always contains every candidate.
_PAD = timedelta(days=1)


@dataclass(frozen=True)
class AppointmentQuery:
    """GET /appointments parameters after parsing; `status` is active, canceled or all."""

    max: int = 100
    min_date: date | None = None
    max_date: date | None = None
    descending: bool = True
    status: str = "active"
    calendar_id: int | None = None
    type_id: int | None = None
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None
    fields: tuple[tuple[int, str], ...] = ()  # field:<id>=<value>, every one must match
    with_forms: bool = True  # excludeForms=true -> False


def _key(appt: Appointment) -> tuple[datetime, int]:
    return appt.start, appt.id


def _same(wanted: str | None, actual: str) -> bool:
    return wanted is None or wanted.strip().lower() == actual.strip().lower()


def _reverse_ties(ordered: Iterator[Appointment]) -> Iterator[Appointment]:
    """The same sequence with each run of equal starts reversed (the `reverse_id` reading of ties)."""
    for _, same_start in itertools.groupby(ordered, key=lambda a: a.start):
        yield from reversed(list(same_start))


def _answered(appt: Appointment, field_id: int, value: str) -> bool:
    """field:<id>=<value>: some intake answer to that field equals value (case and outer spaces ignored)."""
    return any(a.field_id == field_id and _same(value, a.value) for a in appt.forms)


class Account:
    """One tenant. `exhaustive` accounts (the seed scenario) also report id-level ground truth."""

    def __init__(
        self,
        *,
        scenario: str,
        seed: int,
        as_of: date,
        appointments: AppointmentSource,
        clients: ClientSource,
        orders: OrderSource,
        exhaustive: bool,
        readings: Readings | None = None,
        shapes: Shapes | None = None,
        booked: list[Appointment] | None = None,
        redeemed: dict[str, tuple[int, ...]] | None = None,
    ) -> None:
        """``booked``: appointments made after the source's, with the ids that follow its (as ``book`` makes them);
        ``redeemed``: per certificate code, the appointments it paid for."""
        self.scenario = scenario
        self.readings = readings or Readings()
        self.shapes = shapes or Shapes()
        # Bumped by every change, so a server can keep rendered answers until the account changes (see server.py).
        self.version = 0
        self.seed = seed
        self.as_of = as_of
        self.profile = PROFILE
        self._appointments = appointments
        self._clients = clients
        self._orders = orders
        self._exhaustive = exhaustive
        self._lock = threading.RLock()
        self._changed: dict[int, Appointment] = {}
        self._deleted: set[int] = set()
        self._client_overrides: dict[int, Client] = {}
        self._order_overrides: dict[int, Order] = {}
        self._extra_orders: list[Order] = []
        self._redeemed = redeemed or {}
        self._next_appointment_id = appointments.id_base + len(appointments)
        for appt in booked or ():
            self._changed[appt.id] = appt
            self._next_appointment_id = max(self._next_appointment_id, appt.id + 1)
        self._next_order_id = orders.id_base + len(orders)
        self._rng = random.Random(f"{scenario}:{seed}:mutations")

    # ---- reads -------------------------------------------------------------------------------------------
    def me(self, user_id: int) -> dict[str, Any]:
        return render.me(user_id, self.profile)

    def calendars(self) -> list[dict[str, Any]]:
        return [self.shapes.calendar(render.calendar(c)) for c in CALENDARS]

    def appointment_types(self, include_deleted: bool = False) -> list[dict[str, Any]]:
        """Active types; retired ones (`active: false`, still on old appointments) only with includeDeleted."""
        return [
            self.shapes.appointment_type(render.appointment_type(t, self.profile))
            for t in APPOINTMENT_TYPES
            if t.active or include_deleted
        ]

    def addons(self) -> list[dict[str, Any]]:
        return [render.addon(addon) for addon in ADDONS]

    def certificates(self) -> list[dict[str, Any]]:
        """Every code a paid order issued, with what is left on it (used-up and expired ones included)."""
        return [
            self.shapes.certificate(render.certificate(certificate, *self._left(certificate), self.profile.timezone))
            for certificate in sorted(self.iter_certificates(), key=lambda c: c.id)
        ]

    def appointments(self, query: AppointmentQuery) -> list[dict[str, Any]]:
        low = midnight_utc(query.min_date) - _PAD if query.min_date else None
        high = midnight_utc(query.max_date) + 2 * _PAD if query.max_date else None
        ordered = self._stream(low, high, query.descending)
        if self.readings.ties == "reverse_id":
            ordered = _reverse_ties(ordered)
        matches = (a for a in ordered if self._wanted(a, query))
        return [self._render(a, query.with_forms) for a in islice(matches, self.readings.limit(query.max))]

    def appointment(self, appointment_id: int) -> dict[str, Any] | None:
        appt = self._current(appointment_id)
        return None if appt is None else self._render(appt)

    def order(self, order_id: int) -> dict[str, Any] | None:
        """GET /orders/:id: the order as /orders lists it, or None (404) when there is no such order."""
        zone = self.profile.timezone if self.readings.order_time_zone == "account" else "UTC"
        try:
            return render.order(self._order(order_id), zone)
        except KeyError:
            return None

    def payments(self, appointment_id: int) -> list[dict[str, Any]] | None:
        appt = self._current(appointment_id)
        return None if appt is None else render.payments(appt, _CALENDARS[appt.calendar_id])

    def clients(self, search: str | None = None) -> Iterator[dict[str, Any]]:
        needle = (search or "").strip().lower()
        for client in self._iter_clients():
            if not needle or any(needle in v.lower() for v in (client.first_name, client.last_name, client.phone)):
                yield render.client(client)

    def orders(self, limit: int = 100) -> Iterator[dict[str, Any]]:
        zone = self.profile.timezone if self.readings.order_time_zone == "account" else "UTC"
        for order in islice(self._orders_newest_first(), self.readings.limit(limit)):
            yield render.order(order, zone)

    # ---- mutations ---------------------------------------------------------------------------------------
    def sign_baa(self, hipaa: bool = True) -> None:
        """The account becomes HIPAA-enabled, as Acuity makes one once its Business Associate Agreement is signed:
        /me then says ``isHIPAA: true``."""
        with self._lock:
            self.profile = replace(self.profile, hipaa=hipaa)
            self.version += 1

    def advance(self, days: int) -> date:
        with self._lock:
            self.as_of += timedelta(days=days)
            self.version += 1
            return self.as_of

    def book(self, n: int = 1) -> list[dict[str, Any]]:
        """New future appointments for existing persons, matched by email, with ids above all others."""
        booked = []
        with self._lock:
            for _ in range(n):
                client = self._bookable_client()
                calendar = pick_calendar(self._rng)
                start = local_slot(self.as_of + timedelta(days=self._rng.randint(1, 45)), calendar, self._rng)
                appt = assemble(
                    self._rng,
                    appointment_id=self._next_appointment_id,
                    start=start,
                    created=midnight_utc(self.as_of),
                    calendar=calendar,
                    contact=(client.first_name, client.last_name, client.email, client.phone),
                    person=client.person,
                )
                self._next_appointment_id += 1
                self._changed[appt.id] = appt
                self.version += 1
                booked.append(self._render(appt))
        return booked

    def reschedule(self, appointment_id: int, new_start: datetime) -> dict[str, Any]:
        if new_start.tzinfo is None:
            raise ValueError("new_start must be timezone-aware")
        return self._update(appointment_id, start=new_start.astimezone(UTC))

    def cancel(self, appointment_id: int, no_show: bool = False) -> dict[str, Any]:
        """Acuity's cancel call; `no_show=True` is an admin cancel that marks a no-show (canceled and noShow)."""
        if no_show:
            return self.set_no_show(appointment_id)
        return self._update(appointment_id, canceled=True)

    def set_no_show(self, appointment_id: int, no_show: bool = True) -> dict[str, Any]:
        """Mark (or unmark) a no-show. An active appointment is canceled by it, as Acuity's cancel call does; a
        canceled one keeps `canceled` and only its `noShow` changes. Only an appointment that has started can be
        missed, so a future one is refused (the sandbox's rule: no future no-show distorts future counts)."""
        with self._lock:
            appt = self._require(appointment_id)
            if no_show and appt.start >= midnight_utc(self.as_of):
                raise ValueError(f"appointment {appointment_id} has not started yet: it cannot be a no-show")
            return self._store(replace(appt, canceled=True, no_show=True) if no_show else replace(appt, no_show=False))

    def edit(self, appointment_id: int, *, notes: str | None = None, price_sold: str | None = None) -> dict[str, Any]:
        """Change what staff can change without rescheduling: notes and the price sold (payments stay <= price)."""
        with self._lock:
            appt = self._require(appointment_id)
            changes: dict[str, Any] = {}
            if notes is not None:
                changes["notes"] = notes
            if price_sold is not None:
                changes["price_sold"] = price_sold
                if Decimal(appt.amount_paid) > Decimal(price_sold):
                    changes["amount_paid"] = price_sold
            return self._store(replace(appt, **changes))

    def delete_appointment(self, appointment_id: int) -> dict[str, Any]:
        with self._lock:
            appt = self._require(appointment_id)
            self._deleted.add(appointment_id)
            self.version += 1
            self._changed.pop(appointment_id, None)
            return self._render(appt)

    def change_client_email(self, old_email: str, new_email: str) -> list[dict[str, Any]]:
        """Re-address every client record of that email; appointments and orders keep the old text."""
        old, new = normalise_email(old_email), normalise_email(new_email)
        with self._lock:
            targets = [i for i, c in enumerate(self._iter_clients()) if normalise_email(c.email) == old]
            if not targets or old is None or new is None:
                raise KeyError(f"no client with email {old_email!r}")
            if any(normalise_email(c.email) == new for c in self._iter_clients()):
                raise ValueError(f"{new_email!r} already belongs to a client")
            for index in targets:
                self._client_overrides[index] = replace(self._client(index), email=new_email)
            self.version += 1
            return [render.client(self._client(i)) for i in targets]

    def pay_order(self, order_id: int) -> dict[str, Any]:
        with self._lock:
            order = self._order(order_id)
            if order.status != "unpaid":
                raise ValueError(f"order {order_id} is already {order.status}")
            return self._store_order(replace(order, status="paid"))

    def add_order(
        self,
        *,
        total: str,
        first_name: str,
        last_name: str,
        email: str,
        phone: str,
        status: str = "paid",
        title: str = "Gift Certificate",
        person: int | None = None,
    ) -> dict[str, Any]:
        """An order placed at the current as_of by `person` (None: not a client); the oracle decides its match."""
        with self._lock:
            order = Order(
                id=self._next_order_id,
                time=midnight_utc(self.as_of) - timedelta(minutes=1),
                total=total,
                status=status,
                first_name=first_name,
                last_name=last_name,
                email=email,
                phone=phone,
                title=title,
                notes="",
                person=person,
            )
            self._next_order_id += 1
            self._extra_orders.append(order)
            self.version += 1
            return render.order(order, self.profile.timezone)

    def add_unmatched_order(self, total: str) -> dict[str, Any]:
        return self.add_order(
            total=total,
            first_name="Walk-in",
            last_name="Guest",
            email=f"guest{self._next_order_id}@walkin.example",
            phone="",
        )

    def mutate_all(self, rng_seed: int) -> dict[str, Any]:
        """One mutation of every kind on sensible targets; returns the ids (and emails) touched."""
        rng = random.Random(rng_seed)
        with self._lock:
            now = midnight_utc(self.as_of)
            future = [a for a in islice(self._stream(now, now + timedelta(days=60), False), 400) if not a.canceled]
            past = [a for a in islice(self._stream(now - timedelta(days=30), now, True), 400) if not a.canceled]
            rescheduled, canceled, deleted = rng.sample(future, 3)
            no_show = rng.choice(past)
            self.reschedule(rescheduled.id, rescheduled.start + timedelta(days=1, hours=2))
            self.cancel(canceled.id)
            self.delete_appointment(deleted.id)
            self.cancel(no_show.id, no_show=True)
            booked = [a["id"] for a in self.book(2)]
            unpaid = [o.id for o in islice(self._orders_newest_first(), 2000) if o.status == "unpaid"]
            if not unpaid:  # weeks of daily mutations pay every open order: a client places a new one
                buyer = self._bookable_client()
                fields = {"first_name": buyer.first_name, "last_name": buyer.last_name, "email": buyer.email}
                order = self.add_order(total="45.00", phone=buyer.phone, status="unpaid", person=buyer.person, **fields)
                unpaid = [order["id"]]
            paid_order = rng.choice(unpaid)
            self.pay_order(paid_order)
            old_email = self._bookable_client().email
            new_email = f"changed.{rng_seed}.{rng.randrange(10**6)}@newmail.example"
            self.change_client_email(old_email, new_email)
        return {
            "rescheduled": rescheduled.id,
            "canceled": canceled.id,
            "deleted": deleted.id,
            "no_show": no_show.id,
            "booked": booked,
            "paid_order": paid_order,
            "email_changed": (old_email, new_email),
        }

    # ---- changes to old history (what a rolling reconciliation must find) -------------------------------
    def appointment_days_old(self, days: int) -> Appointment:
        """The first active appointment that started `days` days before as_of (UTC day), else the nearest day.

        Deterministic for an account's state, so a test can name "the appointment 200 days old".
        """
        if days < 1:
            raise ValueError("days must be >= 1: older history is what a reconciliation re-reads")
        day = midnight_utc(self.as_of) - timedelta(days=days)
        for spread in range(0, 15):
            for start in dict.fromkeys((day - timedelta(days=spread), day + timedelta(days=spread))):
                if start >= midnight_utc(self.as_of):
                    continue
                found = next((a for a in self._stream(start, start + _PAD, False) if not a.canceled), None)
                if found is not None:
                    return found
        raise KeyError(f"no active appointment near {days} days before {self.as_of}")

    def edit_days_old(self, days: int, *, notes: str | None = None, price_sold: str | None = None) -> int:
        """Edit the appointment `days` days old (default: new notes and a 10% lower price); returns its id."""
        with self._lock:
            appt = self.appointment_days_old(days)
            if notes is None and price_sold is None:
                notes = f"Edited {days} days later by the studio"
                price_sold = f"{Decimal(appt.price_sold) * Decimal('0.9'):.2f}"
            self.edit(appt.id, notes=notes, price_sold=price_sold)
            return appt.id

    def cancel_days_old(self, days: int, no_show: bool = False) -> int:
        """Cancel (or, with `no_show`, mark as a no-show) the appointment `days` days old; returns its id."""
        with self._lock:
            appt = self.appointment_days_old(days)
            self.cancel(appt.id, no_show=no_show)
            return appt.id

    def delete_days_old(self, days: int) -> int:
        """Delete the appointment `days` days old, so it vanishes from every answer; returns its id."""
        with self._lock:
            appt = self.appointment_days_old(days)
            self.delete_appointment(appt.id)
            return appt.id

    # ---- ground truth ------------------------------------------------------------------------------------
    def ground_truth(self, as_of: datetime | None = None, seeds: Seeds | None = None) -> dict[str, Any]:
        """What the warehouse must hold for the current state.

        Counts come from the records; how each record matches comes from the oracle (sandbox/matching.py) over the
        current clients, so an email change moves the expected matches with it. Every appointment has exactly one
        status (scheduled, canceled or no_show): a no-show is canceled in the API but is never also counted as a
        cancellation here. `future_canceled` counts every canceled future appointment (no future no-show exists:
        set_no_show refuses one). ``seeds``: the operator's seed rows for this tenant (sandbox.seeds; default the
        shipped seeds), applied as the models apply them.
        """
        now = as_of or midnight_utc(self.as_of)
        seeds = seeds or Seeds()
        with self._lock:
            oracle = person_index(self._iter_clients(), seeds)
            contacts = oracle.contacts
            totals: Counter[str] = Counter()
            statuses: Counter[str] = Counter()
            historical_statuses: Counter[str] = Counter()
            by_month: Counter[str] = Counter()
            rules: dict[int, str] = {}
            status_by_id: dict[int, str] = {}
            appointment_matches: dict[int, tuple[str | None, str]] = {}
            money: dict[int, tuple[Decimal, Decimal, Decimal]] = {}
            payments = dict.fromkeys(contacts.keys, Decimal(0))
            unmatched_payments = Decimal(0)
            for appt in self._stream(None, None, False):
                totals["appointments"] += 1
                statuses[appt.status] += 1
                contact, rule = contacts.match(
                    appt.first_name, appt.last_name, appt.email, appt.phone, ("appointment", appt.id)
                )
                if self._exhaustive:
                    status_by_id[appt.id] = appt.status
                    appointment_matches[appt.id] = (None if contact is None else contacts.keys[contact], rule)
                    money[appt.id] = (Decimal(price_text(appt)), Decimal(appt.price_sold), Decimal(appt.amount_paid))
                    # paid on an appointment, whatever its status: Acuity refunds nothing when one is canceled
                    if contact is None:
                        unmatched_payments += Decimal(appt.amount_paid)
                    else:
                        payments[contacts.keys[contact]] += Decimal(appt.amount_paid)
                if appt.start < now:
                    totals["historical"] += 1
                    historical_statuses[appt.status] += 1
                elif appt.canceled:
                    totals["future_canceled"] += 1
                else:
                    totals["future_active"] += 1
                    totals["future_unmatched" if contact is None else "future_matched"] += 1
                    by_month[appt.start.strftime("%Y-%m")] += 1
                    if self._exhaustive:
                        rules[appt.id] = rule
            revenue: dict[int, Decimal] = {}  # per contact
            order_matches: dict[int, tuple[str | None, str]] = {}
            unmatched = Decimal(0)
            orders = 0
            for order in self._orders_newest_first():
                orders += 1
                contact, rule = contacts.match(
                    order.first_name, order.last_name, order.email, order.phone, ("order", order.id)
                )
                if self._exhaustive:
                    order_matches[order.id] = (None if contact is None else contacts.keys[contact], rule)
                if order.status.strip(" ").lower() not in seeds.revenue_statuses:
                    continue
                if contact is None:
                    unmatched += Decimal(order.total)
                else:
                    revenue[contact] = revenue.get(contact, Decimal(0)) + Decimal(order.total)
            every_status = ("scheduled", "canceled", "no_show")
            truth: dict[str, Any] = {
                "clients": len(self._clients),
                "persons": self._clients.person_count,
                "appointments": totals["appointments"],
                "future_active": totals["future_active"],
                "future_matched": totals["future_matched"],
                "future_unmatched": totals["future_unmatched"],
                "future_canceled": totals["future_canceled"],
                "historical": totals["historical"],
                "status_counts": {s: statuses[s] for s in every_status},
                "historical_status_counts": {s: historical_statuses[s] for s in every_status},
                "future_by_month": dict(sorted(by_month.items())),
                # paid and delivered orders (seeds/order_statuses.csv), matched and unmatched (the metric's meaning)
                "revenue_total": sum(revenue.values(), Decimal(0)) + unmatched,
                "contacts_with_revenue": len(revenue),
                "unmatched_revenue": unmatched,
                "orders": orders,
            }
            if self._exhaustive:
                truth["future_ids"] = set(rules)
                truth["future_match_rules"] = rules
                truth["future_rule_counts"] = {r: sum(1 for v in rules.values() if v == r) for r in RULES}
                truth["status_by_id"] = status_by_id
                truth["revenue_by_email"] = {
                    normalise_email(self._client(self._clients.primary_client(oracle.contact_person[c])).email): v
                    for c, v in revenue.items()
                }
                # per record and per contact, contacts by their merge identifier (marts.contacts.merge_identifier)
                truth["appointment_matches"] = appointment_matches
                truth["order_matches"] = order_matches
                truth["contacts"] = dict(zip(contacts.keys, contacts.merge_rules, strict=True))
                truth["appointment_money"] = money  # (list price, price sold, amount paid) per appointment
                truth["appointment_payments_by_contact"] = payments
                truth["matched_appointment_payments"] = sum(payments.values(), Decimal(0))
                truth["appointment_payments"] = truth["matched_appointment_payments"] + unmatched_payments
                # per code: (product, order, uses left, value left, the appointments it pays for)
                truth["certificates"] = {
                    certificate.code: (
                        certificate.product.name,
                        certificate.order_id,
                        *self._left(certificate),
                        {appt.id for appt, _ in self.redeemed(certificate)},
                    )
                    for certificate in self.iter_certificates()
                }
                truth["order_revenue_by_contact"] = {
                    key: revenue.get(contact, Decimal(0)) for contact, key in enumerate(contacts.keys)
                }
            return truth

    # ---- internals used by tests and the checker ---------------------------------------------------------
    def iter_appointments(self) -> Iterator[Appointment]:
        """Every current appointment (canceled included) with who booked it, oldest first."""
        return self._stream(None, None, False)

    def iter_clients(self) -> Iterator[Client]:
        return self._iter_clients()

    def iter_orders(self) -> Iterator[Order]:
        return self._orders_newest_first()

    def iter_certificates(self) -> Iterator[Certificate]:
        """The codes the current orders issued."""
        return filter(None, map(certificate_of, self._orders_newest_first()))

    def redeemed(self, certificate: Certificate) -> list[tuple[Appointment, Decimal]]:
        """The appointments the code pays for now, and what it covered on each: a canceled one gave its use back."""
        booked = [
            appt
            for key in self._redeemed.get(certificate.code, ())
            if (appt := self._current(key)) is not None and appt.certificate == certificate.code
        ]
        return list(redemptions(certificate, booked))

    # ---- helpers -----------------------------------------------------------------------------------------
    def _left(self, certificate: Certificate) -> tuple[dict[int, int] | None, Decimal | None]:
        """(uses left per appointment type, value left) on a code; the one its type does not count is None."""
        used = self.redeemed(certificate)
        if certificate.product.kind == "value":
            return None, Decimal(certificate.product.value or 0) - sum((c for _, c in used), Decimal(0))
        return uses_left(certificate, (appt for appt, _ in used)), None

    def _render(self, appt: Appointment, with_forms: bool = True) -> dict[str, Any]:
        row = render.appointment(appt, _CALENDARS[appt.calendar_id], _TYPES[appt.type_id], self.profile, with_forms)
        return self.shapes.appointment(row)

    def _current(self, appointment_id: int) -> Appointment | None:
        if appointment_id in self._deleted:
            return None
        changed = self._changed.get(appointment_id)
        if changed is not None:
            return changed
        index = appointment_id - self._appointments.id_base
        return self._appointments.at(index) if 0 <= index < len(self._appointments) else None

    def _require(self, appointment_id: int) -> Appointment:
        appt = self._current(appointment_id)
        if appt is None:
            raise KeyError(f"no appointment {appointment_id}")
        return appt

    def _update(self, appointment_id: int, **changes: Any) -> dict[str, Any]:
        with self._lock:
            appt = self._require(appointment_id)
            if appt.canceled and ("start" in changes or "canceled" in changes):
                raise ValueError(f"appointment {appointment_id} is canceled")
            return self._store(replace(appt, **changes))

    def _store(self, appt: Appointment) -> dict[str, Any]:
        with self._lock:
            self._changed[appt.id] = appt
            self.version += 1
            return self._render(appt)

    def _stream(self, low: datetime | None, high: datetime | None, descending: bool) -> Iterator[Appointment]:
        """Current appointments with low <= start < high in (start, id) order: base merged with changes.

        Changed records leave the base stream and join a small sorted side stream, so moves are never lost.
        """
        src = self._appointments
        first = src.first_at_or_after(low) if low else 0
        last = src.first_at_or_after(high) if high else len(src)
        indices = range(last - 1, first - 1, -1) if descending else range(first, last)
        with self._lock:
            changed = dict(self._changed)
            deleted = set(self._deleted)
        skip = changed.keys() | deleted
        base = (a for a in map(src.at, indices) if a.id not in skip)
        extra = sorted(
            (a for a in changed.values() if (low is None or a.start >= low) and (high is None or a.start < high)),
            key=_key,
            reverse=descending,
        )
        return heapq.merge(base, extra, key=_key, reverse=descending)

    def _wanted(self, appt: Appointment, query: AppointmentQuery) -> bool:
        if (query.status == "active" and appt.canceled) or (query.status == "canceled" and not appt.canceled):
            return False
        if query.min_date or query.max_date:
            local = appt.start.astimezone(self._date_zone(appt)).date()
            if (query.min_date and local < query.min_date) or (query.max_date and local > query.max_date):
                return False
        return (
            (query.calendar_id is None or appt.calendar_id == query.calendar_id)
            and (query.type_id is None or appt.type_id == query.type_id)
            and _same(query.first_name, appt.first_name)
            and _same(query.last_name, appt.last_name)
            and _same(query.email, appt.email)
            and _same(query.phone, appt.phone)
            and all(_answered(appt, field_id, value) for field_id, value in query.fields)
        )

    def _date_zone(self, appt: Appointment) -> ZoneInfo:
        """The zone minDate/maxDate are compared in (readings.date_zone; by default the calendar's)."""
        zone = self.readings.date_zone
        if zone == "calendar":
            return _ZONES[appt.calendar_id]
        return ZoneInfo(self.profile.timezone if zone == "account" else "UTC")

    def _client(self, index: int) -> Client:
        return self._client_overrides.get(index) or self._clients.at(index)

    def _iter_clients(self) -> Iterator[Client]:
        return map(self._client, range(len(self._clients)))

    def _bookable_client(self) -> Client:
        while True:
            client = self._client(self._rng.randrange(len(self._clients)))
            if client.email:
                return client

    def _order(self, order_id: int) -> Order:
        if order_id in self._order_overrides:
            return self._order_overrides[order_id]
        for extra in self._extra_orders:
            if extra.id == order_id:
                return extra
        index = order_id - self._orders.id_base
        if not 0 <= index < len(self._orders):
            raise KeyError(f"no order {order_id}")
        return self._orders.at(index)

    def _store_order(self, order: Order) -> dict[str, Any]:
        self.version += 1
        if order.id >= self._orders.id_base + len(self._orders):
            self._extra_orders = [order if o.id == order.id else o for o in self._extra_orders]
        else:
            self._order_overrides[order.id] = order
        return render.order(order, self.profile.timezone)

    def _orders_newest_first(self) -> Iterator[Order]:
        src = self._orders
        with self._lock:
            overrides = dict(self._order_overrides)
            extra = sorted(self._extra_orders, key=lambda o: (o.time, o.id), reverse=True)
        base = (overrides.get(src.id_base + i) or src.at(i) for i in range(len(src) - 1, -1, -1))
        return heapq.merge(extra, base, key=lambda o: (o.time, o.id), reverse=True)
