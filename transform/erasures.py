"""The erasure log and the salt, kept in the warehouse's state folder (``privacy/``): who was forgotten, never who.

``privacy/salt`` is the warehouse's secret (32 random bytes, the owner's alone): every salted hash and pseudonym
(``extract.privacy``) is keyed with it, so neither says anything to whoever lacks it, and a copy of the warehouse
alone cannot be searched for a person. ``privacy/erasures.jsonl`` is the erasure log, one JSON line per event and no
personal data: when, which tenant, the salted hashes of the person's identifiers, the ids of their appointments and
orders, what was removed and whether the result was verified, and when an erasure was undone. A sync reads it
(``forgotten``) to store a forgotten person's records anonymised until their erasure is undone.

Losing either file would let the next sync store forgotten people again, so a warehouse whose log names erasures
but whose salt is missing or another one is refused in one line (``check``): back both up with the warehouse.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from extract.privacy import Forgotten
from transform.access import OWNER_ONLY, Access
from transform.errors import PipelineError
from transform.paths import state_dir


def folder(warehouse: Path) -> Path:
    return state_dir(warehouse) / "privacy"


def salt(warehouse: Path, access: Access | None = None) -> bytes | None:
    """The warehouse's salt; created (owner-only) when ``access`` is given and there is none yet."""
    path = folder(warehouse) / "salt"
    if path.exists():
        return bytes.fromhex(path.read_text().strip())
    if access is None:
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    access.give(path.parent)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, OWNER_ONLY)
    with os.fdopen(descriptor, "w") as file:
        file.write(secrets.token_hex(32))
    return salt(warehouse)


def salt_id(value: bytes) -> str:
    """Which salt an erasure was made with (a hash of it: the salt itself never leaves its file)."""
    return hashlib.sha256(b"salt-id:" + value).hexdigest()[:16]


@dataclass
class Erasure:
    """One erasure as the log keeps it (no personal data)."""

    tenant_id: str
    hashes: list[str]
    appointment_ids: list[int]
    order_ids: list[int]
    salt_id: str
    erasure_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    forgotten_at: str = field(default_factory=lambda: _now())
    removed: dict[str, Any] = field(default_factory=dict)
    verified: bool = False
    undone_at: str | None = None


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def log_path(warehouse: Path) -> Path:
    return folder(warehouse) / "erasures.jsonl"


def read(warehouse: Path) -> list[Erasure]:
    """Every erasure of the log as it stands now: each event line updates the erasure it names."""
    erasures: dict[str, Erasure] = {}
    path = log_path(warehouse)
    if not path.exists():
        return []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        try:
            event = json.loads(line)
            known = erasures.get(event["erasure_id"])
            erasures[event["erasure_id"]] = Erasure(**{**(vars(known) if known else {}), **event})
        except (ValueError, TypeError, KeyError):
            raise PipelineError(
                f"{path} line {number} is not an erasure the pipeline wrote: restore the file from a backup"
            ) from None
    return list(erasures.values())


def record(warehouse: Path, erasure: Erasure, access: Access, **changes: Any) -> None:
    """Append an event for ``erasure`` (its first line holds all of it; later ones only what changed)."""
    for name, value in changes.items():
        setattr(erasure, name, value)
    event = vars(erasure) if not changes else {"erasure_id": erasure.erasure_id, **changes}
    path = log_path(warehouse)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, access.file_mode)
    with os.fdopen(descriptor, "a") as file:
        file.write(json.dumps(event, sort_keys=True) + "\n")
        file.flush()
        os.fsync(file.fileno())


def undo(warehouse: Path, erasure: Erasure, access: Access) -> None:
    record(warehouse, erasure, access, undone_at=_now())


def check(warehouse: Path) -> list[Erasure]:
    """The erasures in force, once the salt they were made with is known to be there; else one line to stop on."""
    active = [erasure for erasure in read(warehouse) if erasure.undone_at is None]
    if not active:
        return []
    value = salt(warehouse)
    where = folder(warehouse) / "salt"
    if value is None:
        raise PipelineError(
            f"{where} is missing but {log_path(warehouse)} records {len(active)} erasures: restore it from the"
            " backup of the state folder; without it a sync would store forgotten people again"
        )
    if any(erasure.salt_id != salt_id(value) for erasure in active):
        raise PipelineError(
            f"{where} is not the salt the erasures in {log_path(warehouse)} were made with: restore the original from"
            " the backup of the state folder; without it a sync would store forgotten people again"
        )
    return active


def forgotten(warehouse: Path, tenant_id: str) -> Forgotten | None:
    """The people forgotten in ``tenant_id`` (every erasure in force), for its sync; None when nobody is."""
    active = [erasure for erasure in check(warehouse) if erasure.tenant_id == tenant_id]
    value = salt(warehouse)
    if not active or value is None:
        return None
    return Forgotten(
        value,
        frozenset(hash_ for erasure in active for hash_ in erasure.hashes),
        frozenset(key for erasure in active for key in erasure.appointment_ids),
        frozenset(key for erasure in active for key in erasure.order_ids),
    )


def unverified(warehouse: Path) -> list[Erasure]:
    """Erasures a forget began and did not finish (interrupted, or its check found what remains)."""
    return [erasure for erasure in read(warehouse) if not erasure.verified and erasure.undone_at is None]
