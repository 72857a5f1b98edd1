"""The warehouse's identity rules in Python: the ground-truth oracle that tests compare the SQL with.

One definition of the rules, used by the generator (to design records whose match is what it intends), by the
account's ground truth (how each current record must match) and by the tests (over the JSON the API serves).
The dbt macros are the other side: `assert_marts_equal_ground_truth` compares their result with this one.

Rules: clients merge into contacts by normalised email; a client without email joins the one email contact that
has its phone, else stands alone. A record (appointment or order) matches its contact by email, else by a phone
exactly one contact has, else by a name (first + last) exactly one contact has ("client_id"), else it is unmatched.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable

from sandbox.records import Client

_NON_DIGITS = re.compile(r"[^0-9]")  # ASCII digits only, like the SQL's regexp_replace(…, '[^0-9]', '')
# ASCII letters as on a phone keypad, like the SQL's translate() (macros/normalise.sql keypad_digits)
_KEYPAD = str.maketrans(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", "2223334445556667777888999922233344455566677778889999"
)
_SHORTEST_PHONE = 7

Contact = tuple[str, str, str, str]  # (first name, last name, email, phone) as typed
RULES = ("email", "phone", "client_id", "unmatched")


# SQL's trim() removes spaces only (not tabs or newlines): so does the oracle, or the two would disagree.
def _trim(raw: str | None) -> str:
    return (raw or "").strip(" ")


def normalise_email(raw: str | None) -> str | None:
    """macros/normalise.sql normalise_email: trimmed, lower-cased; empty means none."""
    value = _trim(raw).lower()
    return value or None


def normalise_phone(raw: str | None) -> str | None:
    """macros/normalise.sql normalise_phone: international digits without '+', letters read as on a keypad; none
    without any digit or with fewer than 7. "+44 20 …" and "0044 20 …" keep their country code, a bare 10-digit
    number is North American (the dbt var default_phone_country_code, "1")."""
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
            digits = "1" + digits
    return digits or None


def normalise_name(first: str | None, last: str | None) -> str | None:
    """macros/normalise.sql normalise_name: "first last", trimmed and lower-cased; empty means none."""
    value = f"{_trim(first)} {_trim(last)}".strip(" ").lower()
    return value or None


class ContactIndex:
    """Merges client rows into contacts and matches a record to a contact and the rule that matched it.

    `members[k]` lists the positions (in the order given) of contact k's client rows.
    """

    def __init__(self, clients: Iterable[Contact]) -> None:
        rows = list(clients)
        members: list[list[int]] = []
        by_email: dict[str, int] = {}
        emailless: list[int] = []
        for position, (_, _, email, _) in enumerate(rows):
            key = normalise_email(email)
            if key is None:
                emailless.append(position)
                continue
            if key not in by_email:
                by_email[key] = len(members)
                members.append([])
            members[by_email[key]].append(position)
        email_phone_owners: dict[str, set[int]] = defaultdict(set)
        for contact, positions in enumerate(members):
            for position in positions:
                phone = normalise_phone(rows[position][3])
                if phone:
                    email_phone_owners[phone].add(contact)
        for position in emailless:
            owners = email_phone_owners.get(normalise_phone(rows[position][3]) or "", set())
            if len(owners) == 1:
                members[next(iter(owners))].append(position)
            else:
                members.append([position])

        self.members = members
        self._by_email = by_email
        self._by_phone: dict[str, set[int]] = defaultdict(set)
        self._by_name: dict[str, set[int]] = defaultdict(set)
        for contact, positions in enumerate(members):
            for position in positions:
                first, last, _, phone = rows[position]
                key = normalise_phone(phone)
                if key:
                    self._by_phone[key].add(contact)
                name = normalise_name(first, last)
                if name:
                    self._by_name[name].add(contact)

    def knows_email(self, email: str) -> bool:
        return normalise_email(email) in self._by_email

    def phone_owners(self, phone: str) -> int:
        return len(self._by_phone.get(normalise_phone(phone) or "", ()))

    def name_owners(self, first: str, last: str) -> int:
        return len(self._by_name.get(normalise_name(first, last) or "", ()))

    def match(self, first: str, last: str, email: str, phone: str) -> tuple[int | None, str]:
        """(contact, rule) the way the warehouse matches a record; contact is None when unmatched."""
        contact = self._by_email.get(normalise_email(email) or "")
        if contact is not None:
            return contact, "email"
        for rule, owners in (
            ("phone", self._by_phone.get(normalise_phone(phone) or "", set())),
            ("client_id", self._by_name.get(normalise_name(first, last) or "", set())),
        ):
            if len(owners) == 1:
                return next(iter(owners)), rule
        return None, "unmatched"


class PersonIndex:
    """The oracle over an account's own clients: matches a record to the *person* behind its contact.

    Raises if a contact would merge two persons, since then no single expected answer exists.
    """

    def __init__(self, clients: Iterable[tuple[Contact, int]]) -> None:
        rows = list(clients)
        self.contacts = ContactIndex(contact for contact, _ in rows)
        self.contact_person: list[int] = []
        for contact, positions in enumerate(self.contacts.members):
            persons = {rows[p][1] for p in positions}
            if len(persons) != 1:
                raise ValueError(f"contact {contact} merges persons {sorted(persons)}")
            self.contact_person.append(persons.pop())

    def resolve(self, first: str, last: str, email: str, phone: str) -> tuple[int | None, str]:
        """(person, rule) the warehouse must produce for this record; person is None when unmatched."""
        contact, rule = self.contacts.match(first, last, email, phone)
        return (None if contact is None else self.contact_person[contact]), rule


def person_index(clients: Iterable[Client]) -> PersonIndex:
    """The oracle over an account's client records."""
    return PersonIndex(((c.first_name, c.last_name, c.email, c.phone), c.person) for c in clients)
