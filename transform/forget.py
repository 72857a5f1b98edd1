"""``python -m transform forget`` (``make forget``): erase one person from everything the pipeline keeps.

An erasure request (GDPR Art. 17, UK GDPR, CCPA) names a person by email, phone or contact id within a tenant. The
person is found as the models find them: the contact holding that identifier (``marts.contact_identifiers``), every
identifier of that contact, the appointments and orders matched to it (``marts.appointments``, ``marts.orders``) and
the identifiers those records carry, unless another contact holds one too (it is theirs as well, so it stays). Then,
under the run lock:

1. the erasure is logged (``transform.erasures``: salted hashes, ids, no values) and is in force: every later sync
   stores a record of this person anonymised (``extract.privacy``), until ``forget --undo``;
2. every version of their client records, appointments and orders in raw is anonymised in one transaction, in place:
   the pseudonyms a sync would write, notes and form answers emptied, and a new row hash (dlt's is a hash of the
   values). The rows stay, so counts and revenue reconcile and the models still group them as one (anonymous)
   contact; quarantined payloads that name them are anonymised the same way (or emptied when not a record);
3. dlt's merge staging tables are dropped and its working folder (load packages, trace) deleted with dlt's own
   ``Pipeline.drop`` (its state lives in the warehouse); dbt's target folder (compiled SQL, logs) is deleted;
4. the models are rebuilt; a DuckDB warehouse file is rewritten (``transform.rewrite``: freed blocks keep the old
   bytes), the analysts' copy republished from it, and the report beside it regenerated;
5. the result is verified, not assumed (``transform.scan``): no row of the warehouse or of the copy, and no file
   under the warehouse's folder, its state folder and dlt's and dbt's folders, holds their email, phone or name. The
   erasure log records the outcome.

A stop or a failure at any point leaves a consistent warehouse (a transaction, dbt's own swaps, a temp file and an
atomic rename) and an unverified erasure that the daily run warns about until the same forget is run again.
On PostgreSQL steps 1-3 and the row search hold; the server's own files (its WAL, replicas, backups) are the
server's, and are not rewritten or searched.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import shutil
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
from dlt.destinations.exceptions import DatabaseUndefinedRelation

from extract.config import PROJECT_DIR
from extract.pipeline import RAW_DATASET, make_pipeline
from extract.privacy import HEALTH_COLUMNS, KEYPAD, PERSONAL_RESOURCES, Forgotten, email_key, name_key, phone_key
from transform import access as file_access
from transform import erasures, scan
from transform import warehouse as warehouses
from transform.dbt import DbtProcess
from transform.errors import PipelineError
from transform.publish import exclusive_run, publish, remove_leftovers
from transform.rewrite import rewrite

_KEYS: dict[str, Callable[[Any], str | None]] = {
    "email": email_key,
    "phone": phone_key,
    "name": lambda value: name_key(value, None),
}
_IDENTITY = ("first_name", "last_name", "email", "phone")
_SPELLING = {"first_name": "firstName", "last_name": "lastName", "email": "email", "phone": "phone"}  # Acuity's
_DIGITS = "regexp_replace(translate(upper(coalesce(phone, '')), '{}', '{}'), '[^0-9]', '', 'g')".format(*KEYPAD)
_FULL_NAME = "regexp_replace(lower(coalesce(first_name, '') || ' ' || coalesce(last_name, '')), '\\s+', ' ', 'g')"


@dataclass(frozen=True)
class Request:
    """Who to forget, as the operator named them (exactly one of email, phone, contact id)."""

    tenant_id: str
    email: str | None = None
    phone: str | None = None
    contact_id: str | None = None

    def given(self) -> set[tuple[str, str]]:
        keys = {("email", email_key(self.email)), ("phone", phone_key(self.phone))}
        return {(kind, key) for kind, key in keys if key is not None}


@dataclass
class Person:
    """What the warehouse holds of one person: their identifiers (by kind, as the models compare them) and the ids
    of the records the models matched to them; ``spellings``: other ways their phone was written."""

    contacts: set[str] = field(default_factory=set)
    keys: set[tuple[str, str]] = field(default_factory=set)
    shared: int = 0
    appointment_ids: set[int] = field(default_factory=set)
    order_ids: set[int] = field(default_factory=set)
    spellings: set[str] = field(default_factory=set)

    def needles(self) -> scan.Needles:
        of = {kind: frozenset(key for k, key in self.keys if k == kind) for kind in _KEYS}
        return scan.Needles(of["email"], of["phone"], of["name"], frozenset(self.spellings))


def forget(request: Request, log: Callable[[str], None] = print) -> int:
    """Erase the person; 0 when the result was verified, 1 when something still holds them (named, one line each)."""
    target = warehouses.current()
    access = file_access.current()
    if target.target == "duckdb" and not target.path.exists():
        raise PipelineError(f"no warehouse at {target.path}: nothing to forget (set ACUITY_WAREHOUSE)")
    with file_access.restricted(access), exclusive_run(target.path):
        target.check_file()
        remove_leftovers(target.path)
        erasures.check(target.path)
        salt = erasures.salt(target.path, access)
        assert salt is not None
        pipeline = make_pipeline(request.tenant_id, target.destination(), target.pipelines_dir)
        with pipeline.sql_client() as sql:
            person = find(sql, request)
        check_seeds(person.needles())
        forgotten = Forgotten(
            salt,
            frozenset(Forgotten(salt).digest(kind, key) for kind, key in person.keys),
            frozenset(person.appointment_ids),
            frozenset(person.order_ids),
        )
        erasure = erasures.Erasure(
            request.tenant_id,
            sorted(forgotten.hashes),
            sorted(person.appointment_ids),
            sorted(person.order_ids),
            erasures.salt_id(salt),
        )
        erasures.record(target.path, erasure, access)
        log(
            f"Forgetting a person in tenant {request.tenant_id} (erasure {erasure.erasure_id}): {len(person.contacts)}"
            f" contact, {len(person.appointment_ids)} appointments and {len(person.order_ids)} orders matched to them"
        )
        with pipeline.sql_client() as sql, sql.begin_transaction():
            removed = anonymise(sql, request.tenant_id, forgotten, person)
            removed["quarantined payloads"] = scrub_payloads(sql, request.tenant_id, forgotten, person.needles())
        log("  raw: " + ", ".join(f"{count} {what}" for what, count in removed.items()) + " anonymised")
        with pipeline.sql_client() as sql, sql.with_staging_dataset():
            if sql.has_dataset():
                sql.drop_dataset()
        pipeline.drop()
        shutil.rmtree(target.dbt_target_dir, ignore_errors=True)
        log("  dlt's merge staging tables and working folder, dbt's target folder and logs: deleted")
        rebuild(target, access, log)
        file_access.secure(target, access)
        found = verify(target, person.needles())
        erasures.record(target.path, erasure, access, removed=removed, verified=not found)
    if found:
        for place in found:
            print(f"error: still holds their email, phone or name: {place}", file=sys.stderr)
        return 1
    shared = f"; {person.shared} identifiers another contact also holds were kept" if person.shared else ""
    log(f"  verified: no row and no file of this warehouse holds their email, phone or name{shared}")
    log(
        f"Erasure {erasure.erasure_id} logged in {erasures.log_path(target.path)}; later syncs store this person's"
        " records anonymised until `forget --undo`"
    )
    return 0


def find(sql: Any, request: Request) -> Person:
    """The person as the models see them (see the module's docstring); refused when the identifier is ambiguous."""
    tenant = request.tenant_id
    holders: dict[tuple[str, str], set[str]] = {}
    for contact_id, kind, value in _rows(
        sql,
        "select contact_id, identifier_type, identifier_value from marts.contact_identifiers where tenant_id = %s",
        tenant,
    ):
        key = _KEYS[kind](value) if kind in _KEYS else None
        if key is not None:
            holders.setdefault((kind, key), set()).add(contact_id)
    person = Person()
    if request.contact_id:
        person.contacts = {request.contact_id}
        if not _rows(
            sql, "select 1 from marts.contacts where tenant_id = %s and contact_id = %s", tenant, request.contact_id
        ):
            raise PipelineError(
                f"tenant {tenant} has no contact {request.contact_id} (marts.contacts): nothing forgotten"
            )
    else:
        person.contacts = set().union(*(holders.get(key, set()) for key in request.given()))
        if len(person.contacts) > 1:
            raise PipelineError(
                f"that identifier belongs to {len(person.contacts)} contacts of tenant {tenant} (shared by several"
                " people): name the person with --contact-id (marts.contacts); nothing forgotten"
            )
    keys = request.given() | {key for key, contacts in holders.items() if contacts & person.contacts}
    for contact_id in person.contacts:
        for entity, ids in (("appointment", person.appointment_ids), ("order", person.order_ids)):
            ids |= {
                int(row[0])
                for row in _rows(
                    sql,
                    f"select {entity}_id from marts.{entity}s where tenant_id = %s and contact_id = %s",
                    tenant,
                    contact_id,
                )
            }
    for table, ids in (("appointments", person.appointment_ids), ("orders", person.order_ids)):
        for email, phone, first, last in _raw(sql, table, "email, phone, first_name, last_name", tenant, ids):
            keys |= {(kind, key) for kind, key in (("email", email_key(email)), ("phone", phone_key(phone)),
                     ("name", name_key(first, last))) if key is not None}  # fmt: skip
    theirs = {key for key in keys if not holders.get(key, set()) - person.contacts}
    person.keys, person.shared = theirs, len(keys - theirs)
    return person


def _rows(sql: Any, query: str, *args: Any) -> list[Any]:
    """Rows of a query on the marts; none before the models were ever built."""
    try:
        return list(sql.execute_sql(query, *args) or [])
    except DatabaseUndefinedRelation:
        return []


def _raw(sql: Any, table: str, columns: str, tenant: str, ids: set[int]) -> list[Any]:
    """Those columns of every version of the records ``ids`` names (ids are integers: inlined)."""
    if not ids:
        return []
    listed = ", ".join(str(int(key)) for key in sorted(ids))
    qualified = sql.make_qualified_table_name(table)
    return _rows(sql, f"select {columns} from {qualified} where tenant_id = %s and id in ({listed})", tenant)


def anonymise(sql: Any, tenant: str, forgotten: Forgotten, person: Person) -> dict[str, int]:
    """Anonymise every version of the person's records in raw; the count of versions per table."""
    counted = {}
    for table in PERSONAL_RESOURCES:
        columns = _columns(sql, table)
        if not columns:
            continue
        ids = {"appointments": person.appointment_ids, "orders": person.order_ids}.get(table, set())
        candidates, parameters = _candidates(person, ids, columns)
        qualified = sql.make_qualified_table_name(table)
        identity = "id" if "id" in columns else "null"
        # health data, and what dlt put in a variant column of an identity column (a value of another type)
        emptied = [name for name in columns if name.split("__v_")[0] in HEALTH_COLUMNS]
        emptied += [name for name in columns if "__v_" in name and name.split("__v_")[0] in _IDENTITY]
        present = [name for name in _IDENTITY if name in columns]  # /certificates carries an email only
        selected = ", ".join(
            name if name in columns else "null" for name in ("email", "phone", "first_name", "last_name")
        )
        count = 0
        for row_hash, valid_from, key, email, phone, first, last in _rows(
            sql,
            f"select _dlt_id, _dlt_valid_from, {identity}, {selected} from {qualified}"
            f" where tenant_id = %s and ({candidates})",
            tenant,
            *parameters,
        ):
            record = {"id": key, "email": email, "phone": phone, "firstName": first, "lastName": last}
            if not forgotten.names(table, record):
                continue
            if phone_key(phone) is not None and phone:
                person.spellings.add(phone)
            clean = forgotten.anonymised(record)
            assignments = [f"{name} = %s" for name in present]
            assignments += [f"{sql.escape_column_name(name)} = null" for name in emptied]
            sql.execute_sql(
                f"update {qualified} set {', '.join(assignments)}, _dlt_id = %s"
                " where tenant_id = %s and _dlt_id = %s and _dlt_valid_from = %s",
                *(clean[_SPELLING[name]] for name in present),
                _new_row_hash(forgotten.salt, row_hash),
                tenant,
                row_hash,
                valid_from,
            )
            count += 1
        counted[_VERSIONS[table]] = count
    return counted


_VERSIONS = {
    "clients": "client record versions",
    "appointments": "appointment versions",
    "orders": "order versions",
    "certificates": "certificate versions",
}


def _columns(sql: Any, table: str) -> list[str]:
    """A raw table's columns; none when it does not exist yet. Asked of the catalog, since inside a transaction a
    failed query would abort it."""
    return [
        row[0]
        for row in sql.execute_sql(
            "select column_name from information_schema.columns where table_schema = %s and table_name = %s",
            RAW_DATASET,
            table,
        )
        or []
    ]


def _candidates(person: Person, ids: set[int], columns: list[str]) -> tuple[str, list[str]]:
    """A condition every version of the person's records meets (and a few others may): the exact rule follows.
    A table without a kind's columns (a certificate has no phone or name of the person) is not searched by it."""
    needs = {"email": ("email",), "phone": ("phone",), "name": ("first_name", "last_name")}
    checks, parameters = ["1 = 0"], []
    for kind, key in sorted(person.keys):
        if not all(name in columns for name in needs[kind]):
            continue
        expression = {"email": "lower(coalesce(email, ''))", "phone": _DIGITS, "name": _FULL_NAME}[kind]
        checks.append(f"strpos({expression}, %s) > 0")
        parameters.append(key)
    if ids:
        checks.append(f"id in ({', '.join(str(int(key)) for key in sorted(ids))})")
    return " or ".join(checks), parameters


def _new_row_hash(salt: bytes, row_hash: str) -> str:
    """dlt's row hash is a hash of the row's values, the person's included: an anonymised row gets a keyed one."""
    if row_hash.startswith("forgotten-"):
        return row_hash
    return "forgotten-" + hmac.new(salt, f"row:{row_hash}".encode(), hashlib.sha256).hexdigest()[:16]


def scrub_payloads(sql: Any, tenant: str, forgotten: Forgotten, needles: scan.Needles) -> int:
    """Anonymise the quarantined records that are the person's; empty any other payload that holds their data."""
    qualified = sql.make_qualified_table_name("rejected_records")
    patterns = needles.patterns()
    scrubbed = 0
    if not _columns(sql, "rejected_records"):  # appears with the first record set aside
        return 0
    for row_id, resource, payload in _rows(
        sql, f"select _dlt_id, resource, payload from {qualified} where tenant_id = %s and payload is not null", tenant
    ):
        try:
            record = json.loads(payload)
        except ValueError:
            record = None
        if (
            isinstance(record, dict)
            and resource in PERSONAL_RESOURCES
            and (forgotten.names(resource, record) or needles.names_record(record))
        ):
            cleaned: str | None = json.dumps(forgotten.anonymised(record), sort_keys=True, default=str)
        elif any(pattern in payload.lower().encode() for pattern in patterns):
            cleaned = None
        else:
            continue
        sql.execute_sql(f"update {qualified} set payload = %s where _dlt_id = %s", cleaned, row_id)
        scrubbed += 1
    return scrubbed


def check_seeds(needles: scan.Needles) -> None:
    """Refuse, before changing anything, when a seed (the operator's corrections) names the person: the models would
    copy it back into the warehouse. The line names the file and row, never the value."""
    folder = PROJECT_DIR / os.environ.get("ACUITY_SEEDS_DIR", "seeds")
    patterns = needles.patterns()
    for path in sorted(folder.glob("*.csv")):
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            lowered = line.lower().encode()
            if any(pattern in lowered for pattern in patterns) or any(
                phone in "".join(filter(str.isdigit, line)) for phone in needles.phones
            ):
                raise PipelineError(
                    f"{path} line {number} names this person: remove that row (it would bring them back into the"
                    " warehouse), then run forget again; nothing forgotten yet"
                )


def rebuild(target: warehouses.Warehouse, access: file_access.Access, log: Callable[[str], None]) -> None:
    """Rebuild the models from the anonymised raw tables; on DuckDB rewrite the file, republish the copy and the
    report beside it."""
    with DbtProcess(target) as dbt:
        outcome = dbt.run(["build", "--exclude-resource-type", "unit_test"], artifacts=False)
    if not outcome.success:
        raise PipelineError(
            "forget: the models did not rebuild ("
            + "; ".join(outcome.failures)
            + "): raw is anonymised but the marts are not; fix the cause and run the same forget again"
        )
    if target.target != "duckdb":
        log("  models rebuilt")
        return
    rewrite(target.path, access)
    publish(target.path)
    report = file_access.report_path(target)
    done = "the report beside it regenerated"
    if report.exists():
        from transform.report import build_report

        try:
            build_report(report)
        except Exception as exc:  # a report that cannot be rebuilt must not keep their name
            report.unlink()
            done = f"the report beside it deleted (it could not be rebuilt: {type(exc).__name__})"
    log(f"  models rebuilt; the warehouse file rewritten; the analysts' copy republished; {done}")


def verify(target: warehouses.Warehouse, needles: scan.Needles) -> list[str]:
    """Every place that still holds one of the person's identifiers: rows of the warehouse (and of the copy), bytes
    of every file under its folder, its state folder and dlt's and dbt's folders."""
    found = []
    if target.target == "duckdb":
        for path in (target.path, target.analyst_path):
            if path.exists():
                with _duckdb(path) as query:
                    found += scan.rows(query, needles, path.name)
    else:
        pipeline = make_pipeline("verify", target.destination(), target.pipelines_dir)
        with pipeline.sql_client() as sql:
            found += scan.rows(lambda query, *args: list(sql.execute_sql(query, *args) or []), needles, "server")
    folders = [target.path.parent, target.state_dir, target.pipelines_dir, target.dbt_target_dir]
    found += scan.files([folder for folder in folders if folder.is_dir()], needles)
    return found


@contextlib.contextmanager
def _duckdb(path: Path) -> Iterator[scan.Query]:
    with duckdb.connect(str(path), read_only=True) as connection:
        yield lambda query, *args: connection.execute(query.replace("%s", "?"), list(args)).fetchall()


def undo(request: Request, log: Callable[[str], None] = print) -> int:
    """End the erasures in force for the person the email or phone names: later syncs store them as Acuity sends
    them again. What was anonymised stays so until a sync reads it again."""
    if not request.given():
        raise PipelineError("forget --undo needs --email or --phone: contact ids change when a person is forgotten")
    target = warehouses.current()
    access = file_access.current()
    with file_access.restricted(access), exclusive_run(target.path):
        salt = erasures.salt(target.path)
        active = [e for e in erasures.check(target.path) if e.tenant_id == request.tenant_id]
        digests = {Forgotten(salt).digest(kind, key) for kind, key in request.given()} if salt else set()
        undone = [erasure for erasure in active if digests & set(erasure.hashes)]
        if not undone:
            raise PipelineError(f"no erasure in force in tenant {request.tenant_id} names that identifier")
        for erasure in undone:
            erasures.undo(target.path, erasure, access)
            log(f"Erasure {erasure.erasure_id} (tenant {erasure.tenant_id}) undone")
    log(
        "Later syncs store this person as Acuity sends them; their anonymised history returns as it is read again"
        " (the live window at the next run, older dates within ACUITY_RECONCILE_RUNS runs, or all of it with"
        " --full-refresh)"
    )
    return 0
