"""The warehouse's identity rules in Python: the ground-truth oracle that tests compare the SQL with.

One definition of the rules, used by the generator (to design records whose match is what it intends), by the
account's ground truth (how each current record must match) and by the tests (over the JSON the API serves).
The dbt macros are the other side: `assert_marts_equal_ground_truth` compares their result with this one.

Rules: clients merge into contacts by normalised email; a client without email joins the one email contact that
has its phone, else the contact of its phone (or stands alone without one). A record (appointment or order) matches
its contact by email, else by a phone exactly one contact has, else by a name (first + last) exactly one contact has
("client_id"), else it is unmatched. The operator's seed rows (sandbox.seeds) apply as models/_seeds.yml documents
them: a manual assignment comes first, ignored identifiers are absent, kept-apart records are contacts of their own,
and the tenant's country code completes national phone numbers.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from sandbox.records import Client
from sandbox.seeds import Seeds

_NON_DIGITS = re.compile(r"[^0-9]")  # ASCII digits only, like the SQL's regexp_replace(…, '[^0-9]', '')
# ASCII letters as on a phone keypad, like the SQL's translate() (macros/normalise.sql keypad_digits)
_KEYPAD = str.maketrans(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", "2223334445556667777888999922233344455566677778889999"
)
_SHORTEST_PHONE = 7

Contact = tuple[str, str, str, str]  # (first name, last name, email, phone) as typed
RULES = ("email", "phone", "client_id", "unmatched")  # "manual" too, when a seed row assigns a record


# SQL's trim() removes spaces only (not tabs or newlines): so does the oracle, or the two would disagree.
def _trim(raw: str | None) -> str:
    return (raw or "").strip(" ")


def normalise_email(raw: str | None) -> str | None:
    """macros/normalise.sql normalise_email: trimmed, lower-cased; empty means none."""
    value = _trim(raw).lower()
    return value or None


def normalise_phone(raw: str | None, country_code: str = "1") -> str | None:
    """macros/normalise.sql normalise_phone: international digits without '+', letters read as on a keypad; none
    without any digit or with fewer than 7. "+44 20 …" and "0044 20 …" keep their country code, a bare 10-digit
    number gets ``country_code`` (the tenant's row of seeds/tenant_settings.csv, else the dbt var
    default_phone_country_code, "1")."""
    text = _trim(raw)
    if _NON_DIGITS.sub("", text) == "":
        return None
    digits = _NON_DIGITS.sub("", text.translate(_KEYPAD))
    if len(digits) < _SHORTEST_PHONE:
        return None
    if not text.startswith("+"):
        if digits.startswith("00"):
            digits = digits[2:]
        elif len(digits) == 10:
            digits = country_code + digits
    return digits or None


def normalise_name(first: str | None, last: str | None) -> str | None:
    """macros/normalise.sql normalise_name: "first last", trimmed and lower-cased; empty means none."""
    value = f"{_trim(first)} {_trim(last)}".strip(" ").lower()
    return value or None


def _identifier(kind: str, value: str, country_code: str) -> str | None:
    """macros/normalise.sql normalise_identifier: a value an operator typed into a seed, as the models compare it."""
    if kind == "email":
        return normalise_email(value)
    if kind == "phone":
        return normalise_phone(value, country_code)
    return _trim(value).lower() or None


class ContactIndex:
    """Merges client rows into contacts and matches a record to a contact and the rule that matched it, as
    models/intermediate does, with the operator's seed rows (``seeds``, sandbox.seeds) applied.

    `members[k]` lists the positions (in the order given) of contact k's client rows, `keys[k]` its merge identifier
    as marts.contacts shows it (``email:…``, ``phone:…``, ``manual:…``; ``record:<position>`` stands in for the
    warehouse's row hash of a record with neither), `merge_rules[k]` the rule marts.contacts labels it with.
    """

    def __init__(self, clients: Iterable[Contact], seeds: Seeds | None = None) -> None:
        seeds = seeds or Seeds()
        self._code = "1" if seeds.phone_country_code is None else _NON_DIGITS.sub("", seeds.phone_country_code)
        records = _records(list(clients), seeds, self._code)
        keys, record_rules = _contact_keys(records)
        # contacts in order: those of an email as the first record with it comes, then the others as theirs comes
        contact_of_key: dict[str, int] = {}
        members: list[list[int]] = []
        for position in sorted(range(len(keys)), key=lambda p: (record_rules[p] != "email", p)):
            if keys[position] not in contact_of_key:
                contact_of_key[keys[position]] = len(members)
                members.append([])
            members[contact_of_key[keys[position]]].append(position)
        for positions in members:
            positions.sort()

        self.members = members
        self.keys = list(contact_of_key)
        self._contact_of_key = contact_of_key
        self.merge_rules = [
            _merge_rule(self.keys[k], [record_rules[p] for p in positions], any(records[p].manual for p in positions))
            for k, positions in enumerate(members)
        ]
        self._assignments = {(kind, record_id): contact.strip(" ") for kind, record_id, contact in seeds.assignments}
        self._owners: dict[str, dict[str, set[int]]] = {kind: defaultdict(set) for kind in ("email", "phone", "name")}
        for contact, positions in enumerate(members):
            for position in positions:
                record = records[position]
                for kind, value in (("email", record.email), ("phone", record.phone), ("name", record.name)):
                    if value is not None:
                        self._owners[kind][value].add(contact)

    def knows_email(self, email: str) -> bool:
        return bool(self._owners["email"].get(normalise_email(email) or ""))

    def phone_owners(self, phone: str) -> int:
        return len(self._owners["phone"].get(normalise_phone(phone, self._code) or "", ()))

    def name_owners(self, first: str, last: str) -> int:
        return len(self._owners["name"].get(normalise_name(first, last) or "", ()))

    def match(
        self, first: str, last: str, email: str, phone: str, assigned: tuple[str, int] | None = None
    ) -> tuple[int | None, str]:
        """(contact, rule) the way the warehouse matches a record; contact is None when unmatched. ``assigned``:
        the record's (type, id), for its row of contact_assignments (which counts only when it names a contact)."""
        contact = self._contact_of_key.get(self._assignments.get(assigned, "")) if assigned else None
        if contact is not None:
            return contact, "manual"
        for rule, owners in (
            ("email", self._owners["email"].get(normalise_email(email) or "", set())),
            ("phone", self._owners["phone"].get(normalise_phone(phone, self._code) or "", set())),
            ("client_id", self._owners["name"].get(normalise_name(first, last) or "", set())),
        ):
            if len(owners) == 1:
                return next(iter(owners)), rule
        return None, "unmatched"


@dataclass(frozen=True)
class _Record:
    """A client record as the models merge it: identifiers normalised, ignored ones removed (`manual`: it carried
    one, or it is kept apart on `kept_on`)."""

    name: str | None
    email: str | None
    phone: str | None
    kept_on: str | None
    manual: bool


def _records(rows: list[Contact], seeds: Seeds, code: str) -> list[_Record]:
    """models/intermediate/int_acuity__clients_resolved.sql's `cleaned`: ignored identifiers and kept-apart records."""
    ignored = {(kind, _identifier(kind, value, code)) for kind, value in seeds.ignored}
    kept_apart = [
        (kind, _identifier(kind, value, code), _trim(name).lower() or None) for kind, value, name in seeds.kept_apart
    ]
    records = []
    for first, last, raw_email, raw_phone in rows:
        name, email, phone = normalise_name(first, last), normalise_email(raw_email), normalise_phone(raw_phone, code)
        # kept apart: the records of that name holding that email, or that phone and no email (whether or not the
        # identifier is also ignored)
        kept = [
            value
            for kind, value, kept_name in kept_apart
            if name is not None
            and kept_name == name
            and value is not None
            and (value == email if kind == "email" else value == phone and email is None)
        ]
        if len(kept) > 1:
            raise ValueError(f"two rows of contacts_kept_apart name the client record {first} {last}")
        dropped = [value for kind, value in (("email", email), ("phone", phone)) if (kind, value) in ignored]
        records.append(
            _Record(
                name=name,
                email=None if ("email", email) in ignored else email,
                phone=None if ("phone", phone) in ignored else phone,
                kept_on=kept[0] if kept else None,
                manual=bool(kept) or any(value is not None for value in dropped),
            )
        )
    return records


def _contact_keys(records: list[_Record]) -> tuple[list[str], list[str]]:
    """Each record's contact key and merge rule, as `resolved` in int_acuity__clients_resolved.sql: kept apart, its
    email, the one emailed contact holding its phone, its phone, else itself."""
    emailed_phones: dict[str, set[str]] = defaultdict(set)
    for record in records:
        if record.email is not None and record.phone is not None and record.kept_on is None:
            emailed_phones[record.phone].add(record.email)
    keys, rules = [], []
    for position, record in enumerate(records):
        if record.kept_on is not None:
            key, rule = f"manual:{record.kept_on}|{record.name or ''}", "manual"
        elif record.email is not None:
            key, rule = f"email:{record.email}", "email"
        elif record.phone is not None and len(emailed_phones.get(record.phone, ())) == 1:
            key, rule = f"email:{next(iter(emailed_phones[record.phone]))}", "phone"
        elif record.phone is not None:
            key, rule = f"phone:{record.phone}", "phone"
        else:
            key, rule = f"record:{position}", "record"
        keys.append(key)
        rules.append(rule)
    return keys, rules


def _merge_rule(key: str, record_rules: list[str], manual: bool) -> str:
    """marts/contacts.sql merge_rule: manual, single, email+phone (an emailless record joined by its phone), email,
    phone."""
    if manual:
        return "manual"
    if len(record_rules) == 1:
        return "single"
    if key.startswith("email:"):
        return "email+phone" if "phone" in record_rules else "email"
    return "phone"


class PersonIndex:
    """The oracle over an account's own clients: matches a record to the *person* behind its contact.

    Raises if a contact would merge two persons, since then no single expected answer exists.
    """

    def __init__(self, clients: Iterable[tuple[Contact, int]], seeds: Seeds | None = None) -> None:
        rows = list(clients)
        self.contacts = ContactIndex((contact for contact, _ in rows), seeds)
        self.contact_person: list[int] = []
        for contact, positions in enumerate(self.contacts.members):
            persons = {rows[p][1] for p in positions}
            if len(persons) != 1:
                raise ValueError(f"contact {contact} merges persons {sorted(persons)}")
            self.contact_person.append(persons.pop())

    def resolve(
        self, first: str, last: str, email: str, phone: str, assigned: tuple[str, int] | None = None
    ) -> tuple[int | None, str]:
        """(person, rule) the warehouse must produce for this record; person is None when unmatched."""
        contact, rule = self.contacts.match(first, last, email, phone, assigned)
        return (None if contact is None else self.contact_person[contact]), rule


def person_index(clients: Iterable[Client], seeds: Seeds | None = None) -> PersonIndex:
    """The oracle over an account's client records, with the operator's seed rows for its tenant."""
    return PersonIndex((((c.first_name, c.last_name, c.email, c.phone), c.person) for c in clients), seeds)
