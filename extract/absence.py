"""Absence is not deletion: a record the warehouse holds current that a read did not return is retired only once
Acuity confirms it is gone.

Acuity has no deleted-records feed, so scd2 would retire whatever an answer leaves out, and a short answer (a proxy
that cut it, a server having a bad minute) would publish a mass deletion. Instead, each record that is absent from
what its read covered is asked for by id (``GET /appointments/<id>``, ``GET /orders/<id>``, which answer canceled
records too):
- it answers: it exists, and loads as it is now (an appointment moved out of the read's dates, or one the answer
  left out);
- 404: it was deleted, and is retired;
- nothing is retired at all (all are **held**, kept as last seen) when more would need confirming than the run's
  budget (``ACUITY_CONFIRM_BUDGET``) leaves, or when the deletions would take a large share of what the read's
  span held (``ACUITY_RETIRE_SHARE``): the run says so in one line and exits non-zero, and the next normal run
  confirms them. Clients have no id to ask for; they are held by share alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from extract.errors import AcuityNotFoundError

# A run retiring fewer records than this is never held by share: a small span losing two of its three
# appointments is an ordinary day, not a short answer.
SHARE_FLOOR = 10


@dataclass
class Budget:
    """Confirmation requests the run may still send (shared by every resource of one tenant's sync)."""

    remaining: int

    def take(self, count: int) -> bool:
        """Reserve ``count`` requests; False (nothing reserved) when fewer are left."""
        if count > self.remaining:
            return False
        self.remaining -= count
        return True


@dataclass
class Absence:
    """What became of the records a read did not return.

    ``absent`` = len(found) + len(retired) + len(held); ``reason`` says why ``held`` is not empty.
    """

    absent: int = 0
    found: list[Any] = field(default_factory=list)
    retired: list[Any] = field(default_factory=list)
    held: list[Any] = field(default_factory=list)
    reason: str | None = None


def missing(prior: pa.Array, returned: Iterable[Any]) -> list[Any]:
    """The keys of ``prior`` (what the warehouse held current in the read's scope) that ``returned`` lacks."""
    if not len(prior):
        return []
    seen = pa.array(list(returned), type=prior.type)
    return prior.filter(pc.invert(pc.is_in(prior, value_set=seen))).to_pylist()


def contains(prior: pa.Array, keys: Iterable[Any]) -> list[bool]:
    """Whether each key is one ``prior`` holds."""
    keys = list(keys)
    if not keys or not len(prior):
        return [False] * len(keys)
    return pc.is_in(pa.array(keys, type=prior.type), value_set=prior).to_pylist()


def confirm(
    what: str,
    absent: list[Any],
    held_before: int,
    budget: Budget,
    share_percent: int,
    fetch: Callable[[Any], Any],
) -> Absence:
    """Ask Acuity about each absent record (``fetch(key)``: its current record, or AcuityNotFoundError) within the
    budget, and decide what is retired. ``held_before``: how many records the read's scope held current (the share's
    base); ``what`` names them in the reason ("appointments dated 2026-08-26 … 2027-12-29")."""
    outcome = Absence(absent=len(absent))
    if not absent:
        return outcome
    if not budget.take(len(absent)):
        outcome.held = list(absent)
        outcome.reason = (
            f"{len(absent):,} {what} the warehouse holds were not in Acuity's answer, more than the"
            f" {budget.remaining:,} confirmations left (ACUITY_CONFIRM_BUDGET): none was retired"
        )
        return outcome
    for key in absent:
        try:
            outcome.found.append(fetch(key))
        except AcuityNotFoundError:
            outcome.retired.append(key)
    return hold_a_large_share(outcome, what, held_before, share_percent)


def hold_a_large_share(outcome: Absence, what: str, held_before: int, share_percent: int) -> Absence:
    """Hold every retirement when they would take more than ``share_percent`` of what the scope held (and at least
    SHARE_FLOOR records): an answer that lost that much is more likely broken than a studio's day."""
    retiring = len(outcome.retired)
    if retiring >= SHARE_FLOOR and retiring * 100 > share_percent * max(held_before, 1):
        outcome.held, outcome.retired = outcome.retired, []
        outcome.reason = (
            f"{retiring:,} of the {held_before:,} {what} would be retired, more than ACUITY_RETIRE_SHARE"
            f" ({share_percent}%): none was retired"
        )
    return outcome
