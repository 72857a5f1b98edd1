"""The warehouse's identity rules, used by the generator to prove every record matches whom it intends.

The tests carry an independent copy of these rules; this one exists so the generator (and email changes at
runtime) can design data whose intended match is exactly what the rules produce.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable

from sandbox.records import Client

_NON_DIGITS = re.compile(r"\D")


def normalise_email(raw: str | None) -> str | None:
    value = (raw or "").strip().lower()
    return value or None


def normalise_phone(raw: str | None) -> str | None:
    text = (raw or "").strip()
    digits = _NON_DIGITS.sub("", text)
    if not text.startswith("+"):
        if digits.startswith("00"):
            digits = digits[2:]
        elif len(digits) == 10:
            digits = "1" + digits
    return digits or None


def normalise_name(first: str | None, last: str | None) -> str:
    return f"{(first or '').strip().lower()} {(last or '').strip().lower()}"


class ContactIndex:
    """Merges clients into contacts and resolves a record (appointment/order) to a person and rule."""

    def __init__(self, clients: Iterable[Client]) -> None:
        persons: list[set[int]] = []
        phones: list[set[str]] = []
        names: list[set[str]] = []
        by_email: dict[str, int] = {}
        emailless: list[Client] = []

        def add(contact: int, client: Client) -> None:
            persons[contact].add(client.person)
            names[contact].add(normalise_name(client.first_name, client.last_name))
            phone = normalise_phone(client.phone)
            if phone:
                phones[contact].add(phone)

        def new_contact() -> int:
            persons.append(set())
            phones.append(set())
            names.append(set())
            return len(persons) - 1

        for client in clients:
            email = normalise_email(client.email)
            if email is None:
                emailless.append(client)
                continue
            if email not in by_email:
                by_email[email] = new_contact()
            add(by_email[email], client)
        email_phone_owners: dict[str, set[int]] = defaultdict(set)
        for contact, contact_phones in enumerate(phones):
            for phone in contact_phones:
                email_phone_owners[phone].add(contact)
        for client in emailless:
            owners = email_phone_owners.get(normalise_phone(client.phone) or "", set())
            add(next(iter(owners)) if len(owners) == 1 else new_contact(), client)

        self.contact_persons = persons
        self._by_email = by_email
        self._by_phone: dict[str, set[int]] = defaultdict(set)
        self._by_name: dict[str, set[int]] = defaultdict(set)
        for contact in range(len(persons)):
            for phone in phones[contact]:
                self._by_phone[phone].add(contact)
            for name in names[contact]:
                self._by_name[name].add(contact)

    def knows_email(self, email: str) -> bool:
        return normalise_email(email) in self._by_email

    def phone_owners(self, phone: str) -> int:
        return len(self._by_phone.get(normalise_phone(phone) or "", ()))

    def name_owners(self, first: str, last: str) -> int:
        return len(self._by_name.get(normalise_name(first, last), ()))

    def resolve(self, first: str, last: str, email: str, phone: str) -> tuple[int | None, str]:
        """Return (person, rule) the way the warehouse would match this record."""
        contact = self._by_email.get(normalise_email(email) or "")
        if contact is not None:
            return self._person(contact), "email"
        for rule, owners in (
            ("phone", self._by_phone.get(normalise_phone(phone) or "", set())),
            ("client_id", self._by_name.get(normalise_name(first, last), set())),
        ):
            if len(owners) == 1:
                return self._person(next(iter(owners))), rule
        return None, "unmatched"

    def _person(self, contact: int) -> int:
        (person,) = self.contact_persons[contact]
        return person
