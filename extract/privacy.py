"""What personal data a record may carry into the warehouse: health data only when asked, a forgotten person never.

Called by the screen (``extract.source._Screen``) on every record before anything of it is loaded or set aside, so
the rule holds for raw tables and ``rejected_records`` payloads alike:
- **health data** (intake-form answers and free-text notes, ``HEALTH_COLUMNS``) is left out when the run omits it
  (``ACUITY_HEALTH_DATA``: ``omit``, or ``auto`` on an account whose ``/me`` says ``isHIPAA: true``): each value is
  emptied, its key kept, so a record that had none is stored unchanged and no version is written for nothing;
- a record that names a **forgotten person** (``transform.forget``) loads anonymised: their email, phone and name are
  replaced by pseudonyms keyed with the warehouse's secret salt, their notes and form answers left out. The record
  itself still loads (counts and revenue reconcile) and a pseudonym is the same wherever the value was, so the models
  match the anonymous records to one anonymous contact exactly as they matched the person.

A person is recognised by salted hashes of their identifiers (``Forgotten``), never by the values themselves, in the
form the models compare them (trimmed, lower-cased; a phone by its last ten digits), and by the ids of the
appointments and orders that were theirs. A name counts only on a record without email and phone, as in matching.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

from extract.repair import Repaired, as_int
from extract.validate import column_name

# The resources whose records are about a client, and the columns of theirs that may hold health information:
# intake-form answers (forms, formsText) and free-text notes (any key dlt would load into those columns).
PERSONAL_RESOURCES = ("clients", "appointments", "orders", "certificates")  # a certificate names its buyer's email
HEALTH_COLUMNS = frozenset({"forms", "forms_text", "notes"})
PSEUDONYM_DOMAIN = "erased.invalid"  # RFC 2606: never a real mailbox
# letters as a phone keypad reads them, as macros/normalise.sql does: "1-800-FLOWERS" is digits
KEYPAD = ("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "22233344455566677778889999")
_KEYPAD = str.maketrans(*KEYPAD)
_DIGITS = re.compile(r"\D")
_PSEUDONYM = {"email": re.compile(r"forgotten-[0-9a-f]{16}@erased\.invalid"), "phone": re.compile(r"\+999\d{11}")}


def email_key(value: Any) -> str | None:
    """An email as the models compare it: trimmed, lower-cased; empty means none."""
    text = str(value).strip().lower() if isinstance(value, str | int) else ""
    return text or None


def phone_key(value: Any) -> str | None:
    """A phone's last ten digits (letters read as on a keypad, a leading 00 dropped): the national number, however
    it was written ("(310) 922-7939", "+1 310-922-7939"); fewer than seven digits is none, as in the models."""
    text = str(value).upper().translate(_KEYPAD) if isinstance(value, str | int) else ""
    digits = _DIGITS.sub("", text)
    digits = digits[2:] if digits.startswith("00") else digits
    return digits[-10:] if len(digits) >= 7 else None


def name_key(first: Any, last: Any) -> str | None:
    """ "first last", lower-cased, spaces collapsed; empty means none."""
    parts = [str(part) for part in (first, last) if isinstance(part, str | int)]
    return " ".join(" ".join(parts).lower().split()) or None


def identifiers(row: dict[str, Any]) -> dict[str, str]:
    """The email, phone and name keys a record carries (Acuity's keys), by kind."""
    found = {
        "email": email_key(row.get("email")),
        "phone": phone_key(row.get("phone")),
        "name": name_key(row.get("firstName"), row.get("lastName")),
    }
    return {kind: key for kind, key in found.items() if key is not None}


@dataclass(frozen=True)
class Forgotten:
    """The people forgotten in one tenant: salted hashes of their identifiers (``digest``) and the ids of the
    appointments and orders that were theirs. ``salt`` is the warehouse's secret (``transform.erasures``)."""

    salt: bytes = field(repr=False)
    hashes: frozenset[str] = frozenset()
    appointment_ids: frozenset[int] = frozenset()
    order_ids: frozenset[int] = frozenset()

    def digest(self, kind: str, key: str) -> str:
        """The salted hash of one identifier: what the erasure log keeps instead of the value."""
        return f"{kind}:{hmac.new(self.salt, f'{kind}:{key}'.encode(), hashlib.sha256).hexdigest()}"

    def pseudonym(self, kind: str, key: str) -> str:
        """The stand-in for one identifier: keyed by the salt, so it is the same wherever the value was and says
        nothing of it; a phone stays a phone (digits after an unassigned +999) so the models still read it."""
        token = hmac.new(self.salt, f"pseudonym:{kind}:{key}".encode(), hashlib.sha256).hexdigest()
        if kind == "email":
            return f"forgotten-{token[:16]}@{PSEUDONYM_DOMAIN}"
        if kind == "phone":
            return f"+999{int(token[:12], 16) % 10**11:011d}"
        return f"forgotten-{token[:10]}"

    def names(self, resource: str, row: dict[str, Any]) -> bool:
        """Whether a record is a forgotten person's: by its id, its email or phone, or (without either) its name."""
        ids = {"appointments": self.appointment_ids, "orders": self.order_ids}.get(resource)
        if ids and as_int(row.get("id")) in ids:
            return True
        keys = identifiers(row)
        kinds = ("email", "phone") if "email" in keys or "phone" in keys else ("name",)
        return any(kind in keys and self.digest(kind, keys[kind]) in self.hashes for kind in kinds)

    def anonymised(self, row: dict[str, Any]) -> dict[str, Any]:
        """A copy with every identity column pseudonymised (whatever the key's spelling) and health data left out.
        A pseudonym is left as it is, so a record admitted twice (deduplicated, then loaded) is anonymised once."""
        keys = identifiers(row)
        name = keys.get("name")
        name = name if name is None or name.startswith("forgotten-") else self.pseudonym("name", name)
        out: dict[str, Any] = {}
        for key, value in row.items():
            column = column_name(key)
            if column in HEALTH_COLUMNS:
                value = _empty(value)
            elif column == "first_name" and name is not None:
                value = ""
            elif column == "last_name" and name is not None:
                value = name
            elif column in _PSEUDONYM and value not in (None, "") and not _PSEUDONYM[column].fullmatch(str(value)):
                value = self.pseudonym(column, keys.get(column) or str(value))
            out[key] = value
        return out


@dataclass
class Privacy:
    """One tenant's rule for this run: whether health data is omitted, who is forgotten; ``anonymised`` collects
    the records stored anonymised (by resource and id, or content for clients), for the run's log."""

    omit_health: bool = False
    forgotten: Forgotten | None = None
    anonymised: set[tuple[str, Hashable]] = field(default_factory=set)

    def admit(self, resource: str, row: Any) -> Any:
        """The record as it may be stored: unchanged when nothing applies (the common case costs a lookup)."""
        if not isinstance(row, dict) or resource not in PERSONAL_RESOURCES:
            return row
        forget = self.forgotten is not None and self.forgotten.names(resource, row)
        if not forget and not (self.omit_health and has_health(row)):
            return row
        clean = self.forgotten.anonymised if forget and self.forgotten else without_health
        admitted = _rebuilt(row, clean)
        if forget:
            identity = (
                admitted.get("id") if resource != "clients" else json.dumps(admitted, sort_keys=True, default=str)
            )
            self.anonymised.add((resource, identity))  # clients have no id: their content
        return admitted


def has_health(record: dict[str, Any]) -> bool:
    """Whether a record (Acuity's keys, any spelling) carries a health value that is not empty."""
    return any(column_name(key) in HEALTH_COLUMNS and value != _empty(value) for key, value in record.items())


def without_health(record: dict[str, Any]) -> dict[str, Any]:
    """A copy with every health value emptied (the key kept)."""
    return {key: _empty(value) if column_name(key) in HEALTH_COLUMNS else value for key, value in record.items()}


def _empty(value: Any) -> Any:
    """The empty value of ``value``'s kind: what a record without that health data holds."""
    return [] if isinstance(value, list) else {} if isinstance(value, dict) else None if value is None else ""


def _rebuilt(row: dict[str, Any], clean: Any) -> dict[str, Any]:
    """``clean`` applied to a record; a repaired one stays repaired (its flags kept, its original cleaned too, since
    that is what ``rejected_records`` stores)."""
    if not isinstance(row, Repaired):
        return clean(row)
    original = row.original
    rebuilt = Repaired(clean(original) if isinstance(original, dict) else original)
    rebuilt.clear()
    rebuilt.update(clean(dict(row)))
    rebuilt.flags = list(row.flags)
    return rebuilt


def omits_health(setting: str, me: Any) -> bool:
    """``ACUITY_HEALTH_DATA``: ``omit`` or ``keep`` as said; ``auto`` omits on an account ``/me`` calls HIPAA-enabled
    (its ``isHIPAA``: true once the account's Business Associate Agreement is signed)."""
    if setting != "auto":
        return setting == "omit"
    flag = me.get("isHIPAA") if isinstance(me, dict) else None
    return flag is True or (isinstance(flag, str) and flag.strip().lower() == "true") or flag == 1
