"""Read-only record sources behind an Account.

An Account never holds "the data"; it asks a source for record *i*. The seed scenario keeps small lists in
memory, the large scenario derives each record from (seed, i). Both keep appointments and orders in start/time
order with id = id_base + index, which is what lets a date window become an index range.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from sandbox.records import Appointment, Client, Order


class AppointmentSource(Protocol):
    id_base: int

    def __len__(self) -> int: ...

    def at(self, index: int) -> Appointment: ...

    def first_at_or_after(self, moment: datetime) -> int:
        """Smallest index whose start is >= moment (len(self) if none)."""
        ...


class ClientSource(Protocol):
    person_count: int

    def __len__(self) -> int: ...

    def at(self, index: int) -> Client: ...

    def primary_client(self, person: int) -> int:
        """Index of the client whose email keys the person in revenue_by_email."""
        ...


class OrderSource(Protocol):
    id_base: int

    def __len__(self) -> int: ...

    def at(self, index: int) -> Order: ...


class ListAppointments:
    def __init__(self, records: Sequence[Appointment]) -> None:
        self._records = list(records)
        self._starts = [r.start for r in self._records]
        self.id_base = self._records[0].id if self._records else 1

    def __len__(self) -> int:
        return len(self._records)

    def at(self, index: int) -> Appointment:
        return self._records[index]

    def first_at_or_after(self, moment: datetime) -> int:
        return bisect_left(self._starts, moment)


class ListClients:
    def __init__(self, records: Sequence[Client]) -> None:
        self._records = list(records)
        self._primary: dict[int, int] = {}
        for index, record in enumerate(self._records):
            if record.person not in self._primary or (
                record.email and not self._records[self._primary[record.person]].email
            ):
                self._primary[record.person] = index
        self.person_count = len(self._primary)

    def __len__(self) -> int:
        return len(self._records)

    def at(self, index: int) -> Client:
        return self._records[index]

    def primary_client(self, person: int) -> int:
        return self._primary[person]


class ListOrders:
    def __init__(self, records: Sequence[Order]) -> None:
        self._records = list(records)
        self.id_base = self._records[0].id if self._records else 1

    def __len__(self) -> int:
        return len(self._records)

    def at(self, index: int) -> Order:
        return self._records[index]
