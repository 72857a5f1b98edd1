"""The dlt source ``acuity``: one resource per Acuity list endpoint, every row stamped with its tenant.

The raw layer is a change history, not a copy per run: every resource loads with dlt's ``scd2`` merge strategy, so a
row is inserted only when its content changed and a row that vanished from Acuity is retired (``_dlt_valid_to`` set).
``destination_scope`` limits retirement to what this run actually re-read: this tenant's rows, and for appointments
only those whose local date lies in the re-read window. Nothing outside that scope is ever touched. Appointment reads
ask Acuity for a day more on each side of that window (``extract.paging``: the zone ``minDate`` compares in is not
documented); rows of those pad days are counted (``SyncCounts.edge``) and never loaded, since they lie outside it.
"""

from __future__ import annotations

import json
from array import array
from collections import Counter
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any
from urllib.parse import urlsplit

import dlt
import pyarrow as pa
from dlt.common.schema.utils import has_table_seen_data
from dlt.sources import DltResource

from extract import arrow
from extract.absence import Absence, Budget, confirm, contains, hold_a_large_share, missing
from extract.client import AcuityClient
from extract.errors import AcuityResponseError
from extract.paging import DEFAULT_PAGE_CEILING, read_all_orders, read_appointment_window
from extract.privacy import Privacy
from extract.repair import Reference, as_int, as_received, coerce_types, normalise_times
from extract.validate import Issue, record_issues, rejected_row, start_instant, surplus_keys


# Raw keeps exactly what Acuity sent: datetimes and money stay strings (offsets and formats are data), nested
# values stay JSON. Every column the staging models read is declared, so it exists even when all its values are null;
# columns not listed here still load, typed by dlt's inference.
def _columns(**names: str) -> dict[str, dict[str, str]]:
    """``_columns(id="bigint", email="text")`` -> dlt column hints, ``tenant_id`` always first.

    Each column gets its own dict: dlt writes the column name into the hint it is given.
    """
    return {name: {"data_type": kind} for name, kind in {"tenant_id": "text", **names}.items()}


_PERSON = {"first_name": "text", "last_name": "text", "email": "text", "phone": "text", "notes": "text"}
APPOINTMENT_COLUMNS = _columns(
    id="bigint",
    **_PERSON,
    datetime="text",
    datetime_created="text",
    price="text",
    price_sold="text",
    paid="text",
    amount_paid="text",
    type="text",
    appointment_type_id="bigint",
    category="text",
    duration="text",
    calendar="text",
    calendar_id="bigint",
    canceled="bool",
    no_show="bool",
    timezone="text",
    calendar_timezone="text",
    location="text",
    forms="json",
    labels="json",
    addon_i_ds="json",
    class_id="text",  # a number in some answers, a string in Acuity's own examples: kept as sent
    sub_calendar_id="bigint",
    certificate="text",
    scheduled_by="text",
)
CLIENT_COLUMNS = _columns(**_PERSON)
ORDER_COLUMNS = _columns(id="bigint", **_PERSON, total="text", status="text", time="text", title="text")
APPOINTMENT_TYPE_COLUMNS = _columns(
    id="bigint",
    name="text",
    category="text",
    duration="bigint",
    price="text",
    active="bool",
    calendar_i_ds="json",
    class_size="bigint",
    addon_i_ds="json",
    form_i_ds="json",
)
# image/thumbnail are `false` or a URL in Acuity's answers: json keeps which it was
CALENDAR_COLUMNS = _columns(
    id="bigint", name="text", timezone="text", location="text", email="text", image="json", thumbnail="json"
)
ACCOUNT_COLUMNS = _columns(id="bigint", name="text", email="text", timezone="text", currency="text")
ADDON_COLUMNS = _columns(id="bigint", name="text", duration="bigint", price="text", private="bool")
# remainingCounts is an integer in the community OpenAPI file and uses per appointment type in real answers: json
CERTIFICATE_COLUMNS = _columns(
    id="bigint",
    certificate="text",
    product_id="bigint",
    order_id="bigint",
    appointment_type_i_ds="json",
    name="text",
    email="text",
    type="text",
    remaining_counts="json",
    remaining_minutes="bigint",
    remaining_value="text",
    expiration="text",
)
REJECTED_HINTS = dlt.mark.make_hints(
    table_name="rejected_records",
    write_disposition="append",
    columns=_columns(run_id="text", resource="text", record_id="text", reason="text", action="text", payload="text"),
)
BATCH = 5000  # rows per yielded list: dlt handles lists far faster than single dicts

# Each resource and the endpoint it reads, in load order; the run row and the log name them the same way.
ENDPOINTS = {
    "account": "/me",
    "calendars": "/calendars",
    "appointment_types": "/appointment-types",
    "addons": "/appointment-addons",
    "clients": "/clients",
    "appointments": "/appointments",
    "orders": "/orders",
    "certificates": "/certificates",
}
RESOURCES = tuple(ENDPOINTS)
# Query parameters a resource always sends: retired appointment types too, so an old appointment on a retired type
# keeps its type's name and price (their `active` is false).
PARAMS: dict[str, dict[str, str]] = {"appointment_types": {"includeDeleted": "true"}}

# Keys of this source's dlt state; the resources below are the only writers, ``SourceState`` the only reader.
_BACKFILLED_FROM = "appointments_backfilled_from"
_ORDERS_LAST_COUNT = "orders_last_count"
_APPOINTMENTS_LAST_COUNT = "appointments_last_count"
_ACCOUNT = "account"
_RECONCILE_NEXT = "reconcile_next"


@dataclass(frozen=True)
class SourceState:
    """What earlier syncs of one tenant left in the source's state (restored from the warehouse by dlt).

    ``account_id``/``api_host``: which Acuity account this tenant's history belongs to, recorded by its first sync.
    ``backfilled_from``: the earliest date whose appointments were read in full.
    ``reconcile_next``: the first date of the next slice of history to reconcile.
    """

    backfilled_from: date | None = None
    account_id: str | None = None
    api_host: str | None = None
    reconcile_next: date | None = None

    @classmethod
    def of(cls, sources_state: dict[str, Any]) -> SourceState:
        """Read from a pipeline's ``state["sources"]``."""
        state = sources_state.get("acuity", {})
        account = state.get(_ACCOUNT) or {}
        backfilled = state.get(_BACKFILLED_FROM)
        return cls(
            backfilled_from=date.fromisoformat(backfilled) if backfilled else None,
            account_id=account.get("id"),
            api_host=account.get("host"),
            reconcile_next=date.fromisoformat(state[_RECONCILE_NEXT]) if state.get(_RECONCILE_NEXT) else None,
        )


def account_identity(me: Any, base_url: str) -> tuple[str | None, str]:
    """The account id ``/me`` names and the API host it was read from: what a tenant's history belongs to.

    The id is a positive integer, or its text, written as digits; anything else (an object, ``10001.0``, ``true``)
    is None, which the caller refuses before anything is written. The host has no port: the identity of an account
    does not change with the port a local emulator happens to use.
    """
    value = me.get("id") if isinstance(me, dict) else None
    account_id = as_int(value) if type(value) in (int, str) else None
    return (str(account_id) if account_id is not None and account_id > 0 else None), (
        urlsplit(base_url).hostname or base_url
    )


@dataclass
class SyncCounts:
    """What one sync read per resource, and what it set aside per (resource, action, reason), for the run row.

    ``edge``: rows read on the pad day beside either end of a date span (appointments only, see ``extract.paging``),
    per resource. They are not in ``fetched``: neither loaded nor set aside, they belong to the neighbouring span.
    ``absence``: per resource, the records the warehouse held that its read did not return, and what became of them
    (``extract.absence``).
    """

    fetched: Counter[str] = field(default_factory=Counter)
    issues: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    edge: Counter[str] = field(default_factory=Counter)
    absence: dict[str, Absence] = field(default_factory=dict)  # per resource: what its read did not return
    future_active: set[Any] = field(default_factory=set)  # ids of loaded appointments booked from as-of on

    def set_aside(self, resource: str | None = None, action: str | None = None, reasons: tuple[str, ...] = ()) -> int:
        """How many issues match: all of them by default, else those of a resource, an action and/or reasons."""
        return sum(
            n
            for (where, what, why), n in self.issues.items()
            if resource in (None, where) and action in (None, what) and (not reasons or why in reasons)
        )


def _no_ids() -> pa.Array:
    return pa.array([], pa.int64())


@dataclass(frozen=True)
class Prior:
    """What the warehouse held current before this sync, where this sync's reads may retire it: appointment ids
    dated in its window and slice, order ids, and client records' row hashes (clients have no id)."""

    appointments: pa.Array = field(default_factory=_no_ids)
    orders: pa.Array = field(default_factory=_no_ids)
    clients: pa.Array = field(default_factory=lambda: pa.array([], pa.string()))


@dataclass(frozen=True)
class DateSpan:
    """Local dates [first, last]."""

    first: date
    last: date

    def sql(self) -> str:
        """Raw appointments dated in this span (``datetime`` starts with the local ISO date)."""
        return (
            f"substr(\"datetime\", 1, 10) >= '{self.first.isoformat()}'"
            f" and substr(\"datetime\", 1, 10) <= '{self.last.isoformat()}'"
        )


@dataclass(frozen=True)
class AppointmentWindow:
    """Local dates [first, last] whose appointments this run re-reads completely, and the slice of older history it
    reconciles (``reconcile``; see ``ReconcileRead``)."""

    first: date
    last: date
    reconcile: DateSpan | None = None

    def scope_sql(self, tenant_id: str) -> str:
        """The raw rows this run is authoritative for: scd2 retires only rows inside it."""
        spans = [DateSpan(self.first, self.last), *([self.reconcile] if self.reconcile else [])]
        return f"{_tenant_sql(tenant_id)} and (" + " or ".join(f"({span.sql()})" for span in spans) + ")"


@dataclass
class ReconcileRead:
    """One slice of history older than the live window, read in full before the load (so its cost is known).

    Acuity has no "modified since": an edit, cancellation or deletion of an old appointment is only seen by reading
    its date again. Each run re-reads one slice, in rotation (``SourceState.reconcile_next``), within a request budget.
    """

    span: DateSpan
    rows: list[Any] = field(default_factory=list)
    duplicates: list[Any] = field(default_factory=list)
    outside: list[Any] = field(default_factory=list)
    edge: list[Any] = field(default_factory=list)  # rows of the pad days beside the span: counted, not loaded
    requests: int = 0


class _OverBudget(Exception):
    pass


def read_reconcile_slice(
    client: AcuityClient,
    span: DateSpan,
    page_size: int,
    page_ceiling: int,
    budget: int,
    reference: Reference | None = None,
) -> ReconcileRead | None:
    """The slice's appointments, or None when reading it completely would take more than ``budget`` requests.

    ``reference``: the zones its times are normalised in (``extract.repair.normalise_times``), as the window's are."""
    read = ReconcileRead(span)

    def fetch(endpoint: str, params: dict[str, Any]) -> Any:
        if read.requests >= budget:
            raise _OverBudget
        read.requests += 1
        return client.get(endpoint, params)

    try:
        read.rows = list(
            read_appointment_window(
                fetch,
                span.first,
                span.last,
                page_size,
                read.duplicates,
                read.outside,
                edge=read.edge,
                page_ceiling=page_ceiling,
                prepare=partial(normalise_times, reference=reference or Reference()),
            )
        )
    except _OverBudget:
        return None
    return read


def _tenant_sql(tenant_id: str) -> str:
    # tenant ids are validated to [a-z0-9_] (extract.config), so inlining them is safe
    return f"tenant_id = '{tenant_id}'"


def _scd2(scope: str) -> dict[str, Any]:
    return {"disposition": "merge", "strategy": "scd2", "destination_scope": scope}


def _stamped(rows: list[dict[str, Any]], tenant_id: str) -> list[dict[str, Any]]:
    """Tag rows in place: a copy of a 200k-order answer would double the extract's peak memory."""
    for row in rows:
        row["tenant_id"] = tenant_id
    return rows


class _Screen:
    """Splits one resource's records into loadable rows and ``rejected_records`` rows, counting both by reason.

    The conservation law holds per record handed to ``accept``: it is loaded (the row to load is returned), or
    quarantined (None) with exactly one ``skipped`` row; a loaded record may also carry ``kept`` rows, one per flagged
    field. So a resource's fetched count = its loaded records + its ``<resource>_skipped_*`` counts. Never raises on a
    record. Equivalent shapes load in Acuity's canonical form (``extract.repair``); a flagged record loads without
    the keys dlt would put in a column already taken (``surplus_keys``). Its ``rejected_records`` rows hold it as
    received.
    """

    def __init__(
        self,
        resource: str,
        tenant_id: str,
        run_id: str,
        counts: SyncCounts,
        statuses: frozenset[str] | None = None,
        privacy: Privacy | None = None,
    ) -> None:
        self.resource, self.tenant_id, self.run_id, self.counts = resource, tenant_id, run_id, counts
        self.statuses = statuses
        self.privacy = privacy
        self.rejected: list[dict[str, Any]] = []

    def admit(self, row: Any) -> Any:
        """The record as it may be stored at all (``extract.privacy``): before it is loaded or set aside."""
        return row if self.privacy is None else self.privacy.admit(self.resource, row)

    def accept(self, row: Any) -> dict[str, Any] | None:
        """The row to load for ``row`` (maybe rewritten to the canonical form), or None when it is quarantined.

        Types are coerced only for a record the checks object to: the common, clean record costs one check."""
        row = self.admit(row)
        issues = record_issues(self.resource, row, self.statuses)
        if issues and isinstance(row, dict) and (coerced := coerce_types(self.resource, row)) is not row:
            row, issues = coerced, record_issues(self.resource, coerced, self.statuses)
        issues = [Issue(flag, "kept") for flag in getattr(row, "flags", ())] + issues
        if not issues:
            return row
        skipping = next((issue for issue in issues if issue.skips), None)
        for issue in [skipping] if skipping is not None else issues:  # a quarantined record gets one reason
            self.reject(row, issue)
        if skipping is not None:
            return None
        for key in surplus_keys(self.resource, row):  # after reject(): the payload keeps them
            del row[key]
        return row

    def accepted(self, rows: list[Any]) -> list[dict[str, Any]]:
        """The records of one answer that load (flagged ones included), in order."""
        return [loaded for row in rows if (loaded := self.accept(row)) is not None]

    def unique(self, rows: list[Any], key: Callable[[Any], Hashable | None], reason: str) -> list[Any]:
        """The answer without repeated records (the first copy stays), each repeat listed as ``deduplicated`` for
        ``reason``: ``key`` is what makes two records one (an id; for clients, which have none, their content)."""
        seen: set[Hashable] = set()
        kept = []
        for row in map(self.admit, rows):  # two records alike once admitted are one record
            identity = key(row)
            if identity is not None and identity in seen:
                self.reject(row, Issue(reason, "deduplicated"))
                continue
            if identity is not None:
                seen.add(identity)
            kept.append(row)
        return kept

    def reject(self, row: Any, issue: Issue) -> None:
        row = self.admit(row)
        self.counts.issues[self.resource, issue.action, issue.reason] += 1
        self.rejected.append(rejected_row(self.tenant_id, self.run_id, self.resource, as_received(row), issue))

    def drain(self) -> Iterator[Any]:
        """The rejected rows so far, routed to their own append-only table."""
        if self.rejected:
            yield dlt.mark.with_hints(self.rejected, REJECTED_HINTS, create_table_variant=True)
            self.rejected = []


_DUPLICATE_ID = "duplicate_id_in_response"


def _record_id(row: Any) -> int | None:
    return as_int(row.get("id")) if isinstance(row, dict) else None


def _content(row: Any) -> Hashable | None:
    """A client record's identity: Acuity gives clients no id, so two copies alike in every key are one record."""
    return json.dumps(row, sort_keys=True, default=str) if isinstance(row, dict) else None


def _within(row: Any, spans: list[DateSpan]) -> bool:
    """Whether an appointment is dated in one of the spans (undated ones count as inside, as paging places them)."""
    day = str(row.get("datetime") or "")[:10] if isinstance(row, dict) else ""
    if len(day) != 10 or day[4] != "-":
        return True
    return any(span.first.isoformat() <= day <= span.last.isoformat() for span in spans)


def _booked_from(row: dict[str, Any], as_of: datetime) -> bool:
    """Whether a loaded appointment is booked from ``as_of`` on: it starts then or later and is not canceled (a
    ``canceled`` that is no boolean counts as canceled, as staging reads it). The extractor's own count of what
    marts.future_appointments must hold, computed apart from the models (tests/dbt)."""
    start = start_instant(row.get("datetime"))
    return start is not None and start >= as_of and row.get("canceled") in (None, False)


def _held_scope(scope: str, held: list[Any]) -> str:
    """The scd2 scope that retires nothing ``held``: their ids are integers (from the warehouse), safe to inline."""
    return scope if not held else f"{scope} and id not in ({', '.join(str(int(key)) for key in held)})"


@dlt.source(name="acuity", max_table_nesting=0)
def acuity_source(
    client: AcuityClient,
    tenant_id: str,
    window: AppointmentWindow,
    page_size: int = 1000,
    counts: SyncCounts | None = None,
    run_id: str = "",
    me: dict[str, Any] | None = None,
    page_ceiling: int = DEFAULT_PAGE_CEILING,
    reconcile: ReconcileRead | None = None,
    calendars: list[Any] | None = None,
    reference: Reference | None = None,
    prior: Prior | None = None,
    budget: Budget | None = None,
    retire_share: int = 50,
    statuses: frozenset[str] | None = None,
    as_of: datetime | None = None,
    privacy: Privacy | None = None,
) -> list[DltResource]:
    """Clients, appointments, orders, appointment types, add-ons, certificates, calendars and the account of one
    Acuity tenant.

    ``counts`` (optional) receives the rows read per resource and the records set aside, for the run row; ``run_id``
    tags the rows of ``rejected_records``; ``me`` and ``calendars`` are the ``/me`` and ``/calendars`` answers when
    the caller already read them (to check which account the credentials reach before anything loads);
    ``reference``: the zones times are normalised in (``extract.repair``; default: from those two answers).
    ``page_size`` is the smallest ``max`` asked and ``page_ceiling`` the largest (``extract.paging``).
    ``reconcile``: the slice of older history read for this run, loaded with the live window under the same scd2
    scope (``window.reconcile`` must name its span). ``prior``: what the warehouse held current before this run
    where it may retire it; a record of it a read does not return is retired only once confirmed, within ``budget``
    requests and ``retire_share`` percent (``extract.absence``). ``statuses``: the order statuses
    seeds/order_statuses.csv lists (an order in another loads, flagged). ``as_of``: the run's now, for the count of
    appointments booked from it (``counts.future_active``).
    ``privacy``: what clients, appointments, orders and certificates may store (``extract.privacy``: health data
    left out, forgotten people anonymised).
    """
    schema = dlt.current.source_schema()
    schema.remove_type_detection("iso_timestamp")  # keep Acuity's strings; staging parses them
    counts = counts if counts is not None else SyncCounts()
    prior = prior if prior is not None else Prior()
    budget = budget if budget is not None else Budget(0)
    tenant_scope = _scd2(_tenant_sql(tenant_id))
    reference = reference if reference is not None else Reference.of(calendars, me)

    def loadable(name: str, rows: list[dict[str, Any]], declared: dict[str, Any]) -> Any:
        """Screened, stamped rows as dlt loads them fastest: Arrow when it holds them exactly (extract.arrow)."""
        return arrow.fast(rows, {**declared, **dlt.current.source_schema().tables.get(name, {}).get("columns", {})})

    def answer(name: str, given: Any = None) -> list[Any]:
        endpoint = ENDPOINTS[name]
        rows = given if given is not None else client.get(endpoint, PARAMS.get(name))
        if not isinstance(rows, list):  # AcuityClient guarantees a list; say so in one line if anything else did not
            raise AcuityResponseError(f"GET {endpoint} answered {type(rows).__name__} where a list was expected")
        return rows

    def whole_list(name: str, given: list[Any] | None = None) -> Iterator[Any]:
        """An endpoint without paging, read whole; each record loads, loads flagged, or is quarantined, once per id.

        Many accounts sell no package and define no add-on: an empty first answer still creates the table the models
        read. Only the first: an empty answer to a table that holds rows would retire them all (scd2), and an empty
        answer is no proof that everything was deleted (docs/acuity-api.md, "Absence is not deletion")."""
        screen = _Screen(name, tenant_id, run_id, counts, privacy=privacy)  # /certificates names its buyer
        rows = screen.unique(answer(name, given), _record_id, _DUPLICATE_ID)
        counts.fetched[name] += len(rows)
        loaded = _stamped(screen.accepted(rows), tenant_id)
        if not loaded and not has_table_seen_data(dlt.current.source_schema().tables.get(name, {})):
            loaded = dlt.mark.materialize_table_schema()
        yield loaded
        yield from screen.drain()

    def retire_only_confirmed(name: str, scope: str, outcome: Absence) -> Iterator[Any]:
        """Record what became of the records the read did not return, and keep the held ones current."""
        counts.absence[name] = outcome
        if outcome.held:
            held_scope = "1 = 0" if name == "clients" else _held_scope(scope, outcome.held)
            yield dlt.mark.with_hints([], dlt.mark.make_hints(write_disposition=_scd2(held_scope)))

    @dlt.resource(name="clients", write_disposition=tenant_scope, columns=CLIENT_COLUMNS)
    def clients() -> Iterator[Any]:
        """All clients: ``/clients`` has no paging and returns every client in one answer. Clients have no id: a
        record that changed or vanished is retired by its content's hash, unless that would retire a large share."""
        screen = _Screen("clients", tenant_id, run_id, counts, privacy=privacy)
        rows = screen.unique(answer("clients"), _content, "duplicate_record_in_response")
        counts.fetched["clients"] += len(rows)
        kept = _stamped(screen.accepted(rows), tenant_id)
        absent = missing(prior.clients, (arrow.row_hash(row) for row in kept))
        outcome = hold_a_large_share(
            Absence(absent=len(absent), retired=absent), "client records", len(prior.clients), retire_share
        )
        yield from retire_only_confirmed("clients", _tenant_sql(tenant_id), outcome)
        yield loadable("clients", kept, CLIENT_COLUMNS)
        yield from screen.drain()

    @dlt.resource(
        name="appointments",
        write_disposition=_scd2(window.scope_sql(tenant_id)),
        columns=APPOINTMENT_COLUMNS,
    )
    def appointments() -> Iterator[Any]:
        """Every appointment in the window, canceled ones included (``showall``), read until complete.

        Each row the server sent is loaded, set aside (``rejected_records``), or, when dated on a pad day beside the
        window or the slice, only counted (``counts.edge``): see ``extract.paging``'s conservation contract. An
        appointment the warehouse held in the window or slice that no read returned there is confirmed by id before
        it is retired (``extract.absence``).
        """
        screen = _Screen("appointments", tenant_id, run_id, counts, privacy=privacy)
        duplicates: list[Any] = []
        outside: list[Any] = []
        edge: list[Any] = []
        batch: list[dict[str, Any]] = []
        returned = array("q")  # ids the reads returned in their dates: 8 bytes each, a 1M account's window fits
        state = dlt.current.source_state()  # only the extract-time state is persisted with the load
        expected = state.get(_APPOINTMENTS_LAST_COUNT)  # sizes the first `max`: one request is the usual case

        prepare = partial(normalise_times, reference=reference)

        def load(row: Any) -> None:
            if (loaded := screen.accept(row)) is not None:
                loaded["tenant_id"] = tenant_id
                batch.append(loaded)
                if as_of is not None and _booked_from(loaded, as_of):
                    counts.future_active.add(loaded["id"])

        def take(row: Any) -> None:
            if (key := _record_id(row)) is not None:
                returned.append(key)
            load(row)

        read = 0
        for row in read_appointment_window(
            client.get,
            window.first,
            window.last,
            page_size,
            duplicates,
            outside,
            edge=edge,
            expected=expected,
            page_ceiling=page_ceiling,
            prepare=prepare,
        ):
            read += 1
            counts.fetched["appointments"] += 1
            take(row)
            if len(batch) >= BATCH:
                yield loadable("appointments", batch, APPOINTMENT_COLUMNS)
                batch = []
        state[_APPOINTMENTS_LAST_COUNT] = read + len(edge)  # what the next run's (padded) window answer will hold
        spans = [DateSpan(window.first, window.last)]
        if reconcile is not None:  # the slice of older history, screened like the live window
            counts.fetched["appointments"] += len(reconcile.rows)
            for row in reconcile.rows:
                take(row)
            duplicates.extend(reconcile.duplicates)
            outside.extend(reconcile.outside)
            edge.extend(reconcile.edge)
            spans.append(reconcile.span)
            state[_RECONCILE_NEXT] = (reconcile.span.last + timedelta(days=1)).isoformat()
        # dated beside the spans but held in them (and not read in them too): moved out since the last run, so
        # loaded as they are now
        beside = edge + outside
        read_here = pa.array(returned, pa.int64())
        moved_here = [
            held and not again
            for held, again in zip(
                contains(prior.appointments, (_record_id(row) for row in beside)),
                contains(read_here, (_record_id(row) for row in beside)),
                strict=True,
            )
        ]
        moved = [row for row, here in zip(beside, moved_here, strict=True) if here]
        edge = [row for row, here in zip(edge, moved_here[: len(edge)], strict=True) if not here]
        outside = [row for row, here in zip(outside, moved_here[len(edge) :], strict=True) if not here]
        returned.extend(key for row in moved if (key := _record_id(row)) is not None)
        absent = missing(prior.appointments, returned)
        what = "appointments dated " + " and ".join(f"{span.first} … {span.last}" for span in spans)
        outcome = confirm(
            what, absent, len(prior.appointments), budget, retire_share,
            lambda key: prepare(client.get(f"/appointments/{key}")),
        )  # fmt: skip
        read_by_id = {id(row) for row in outcome.found}
        outcome.found = moved + outcome.found
        outcome.absent += len(moved)
        for row in outcome.found:
            if id(row) in read_by_id and _within(row, spans):  # dated where the reads looked: counted with them
                counts.fetched["appointments"] += 1
            load(row)
        yield loadable("appointments", batch, APPOINTMENT_COLUMNS)
        yield from retire_only_confirmed("appointments", window.scope_sql(tenant_id), outcome)
        # dated on a pad day: another span's to load (or to retire), and expected every run, so no rejected_records row
        counts.edge["appointments"] += len(edge)
        for row in duplicates:
            screen.reject(row, Issue(_DUPLICATE_ID, "deduplicated"))
        counts.fetched["appointments"] += len(outside)  # sent, so counted: fetched = loaded + set aside
        for row in outside:  # dated outside the window this run asked for: never silently dropped
            if screen.accept(row) is not None:  # a broken record keeps its own reason (e.g. a start in year 1)
                screen.reject(row, Issue("outside_requested_window", "skipped"))
        yield from screen.drain()
        previous = state.get(_BACKFILLED_FROM)
        state[_BACKFILLED_FROM] = min(filter(None, [previous, window.first.isoformat()]))

    @dlt.resource(name="orders", write_disposition=tenant_scope, columns=ORDER_COLUMNS)
    def orders() -> Iterator[Any]:
        """All orders; the first ``max`` tried is sized from the last run's count so one request usually does. An
        order the warehouse holds that the answer lacks is confirmed by id before it is retired."""
        state = dlt.current.source_state()
        expected = state.get(_ORDERS_LAST_COUNT)
        rows = read_all_orders(client.get, page_size, expected=expected, page_ceiling=page_ceiling)
        state[_ORDERS_LAST_COUNT] = len(rows)
        screen = _Screen("orders", tenant_id, run_id, counts, statuses, privacy)
        rows = screen.unique(rows, _record_id, _DUPLICATE_ID)
        absent = missing(prior.orders, (key for row in rows if (key := _record_id(row)) is not None))
        outcome = confirm(
            "orders", absent, len(prior.orders), budget, retire_share, lambda key: client.get(f"/orders/{key}")
        )
        rows += outcome.found
        counts.fetched["orders"] += len(rows)
        kept = _stamped(screen.accepted(rows), tenant_id)
        yield loadable("orders", kept, ORDER_COLUMNS)
        yield from retire_only_confirmed("orders", _tenant_sql(tenant_id), outcome)
        yield from screen.drain()

    @dlt.resource(name="appointment_types", write_disposition=tenant_scope, columns=APPOINTMENT_TYPE_COLUMNS)
    def appointment_types() -> Iterator[list[dict[str, Any]]]:
        yield from whole_list("appointment_types")

    @dlt.resource(name="calendars", write_disposition=tenant_scope, columns=CALENDAR_COLUMNS)
    def calendars_resource() -> Iterator[list[dict[str, Any]]]:
        yield from whole_list("calendars", calendars)

    @dlt.resource(name="addons", write_disposition=tenant_scope, columns=ADDON_COLUMNS)
    def addons() -> Iterator[list[dict[str, Any]]]:
        """``/appointment-addons``: the add-ons appointments' ``addonIDs`` name, with their current price."""
        yield from whole_list("addons")

    @dlt.resource(name="certificates", write_disposition=tenant_scope, columns=CERTIFICATE_COLUMNS)
    def certificates() -> Iterator[list[dict[str, Any]]]:
        """``/certificates``: the package, gift-certificate and subscription codes orders issued, with what is left
        on each."""
        yield from whole_list("certificates")

    @dlt.resource(name="account", write_disposition=tenant_scope, columns=ACCOUNT_COLUMNS)
    def account() -> Iterator[dict[str, Any]]:
        """``/me``: the account's time zone is what order times (which carry no offset) are local to. Its id and the
        API host are recorded in the state: the account this tenant's history belongs to."""
        answer = me if me is not None else client.get(ENDPOINTS["account"])
        account_id, host = account_identity(answer, client.base_url)
        dlt.current.source_state()[_ACCOUNT] = {"id": account_id, "host": host}
        counts.fetched["account"] += 1
        yield _stamped([coerce_types("account", answer)], tenant_id)

    return [
        account(),
        calendars_resource(),
        appointment_types(),
        addons(),
        clients(),
        appointments(),
        orders(),
        certificates(),
    ]
