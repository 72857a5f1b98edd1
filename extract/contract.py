"""The record contract: what each Acuity record must hold before dbt sees it, defined once for the extractor's checks
and for the record-level constraints of the dbt models.

Real answers leave keys out and vary types (docs/acuity-api.md, "Shapes real answers take"), so a record-level rule a
model relies on is kept true in one of three ways, never by hoping the server sends our emulator's shape:
- **quarantined** (``extract.validate``, action ``skipped``): the record cannot be placed at all (no usable id, no
  usable start time) and goes to ``rejected_records`` instead of its table;
- **flagged** (action ``kept``): it loads, its bad value is listed in ``rejected_records``, and the column the models
  read holds null or a documented fallback;
- **normalised** (``extract.repair``): an equivalent shape (an id sent as ``"7"``, a boolean as ``"true"``, a time
  with ``Z`` or fractional seconds) loads in Acuity's canonical form; a time in another form is also flagged, with the
  record as received in the payload.
Fallbacks for values Acuity legitimately leaves out are the models' (``FALLBACKS``), listed in docs/acuity-api.md.

``GUARDS`` names, per field, the record-level constraints of the dbt models (``<model>.<column>:<test>`` or
``<model>:<test>``) its rule keeps true; ``DERIVED`` lists the others, which the pipeline or the models compute, so
no record can break them. ``tests/unit/test_contract.py`` holds the models' YAML to these two tables in both
directions; ``tests/test_contract.py`` serves a record that breaks each guarded rule and checks that the extractor
catches it and the build publishes.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

from extract.config import PROJECT_DIR

# What each field must be, per resource (Acuity's field names). Kinds: id (required integer: quarantined without
# one), start (the appointment's required start time), datetime (an optional ISO time), int, bool, money, text, code
# (text or an integer, kept as text), zone (an IANA time zone), order_time (Acuity's "YYYY-MM-DD HH:MM"), status (an
# order status listed in seeds/order_statuses.csv), forms and labels (nested lists whose elements need ids), ids (a
# list of integer ids, each once), counts (an integer, or an object of integers keyed by appointment type id), date
# (an ISO 8601 date, maybe followed by a time: the models read the date).
_PERSON = {name: "text" for name in ("firstName", "lastName", "email", "phone", "notes")}
FIELDS: dict[str, dict[str, str]] = {
    "appointments": {
        "id": "id",
        "datetime": "start",
        "datetimeCreated": "datetime",
        **_PERSON,
        "appointmentTypeID": "int",
        "calendarID": "int",
        "subCalendarID": "int",
        "canceled": "bool",
        "noShow": "bool",
        "price": "money",
        "priceSold": "money",
        "amountPaid": "money",
        "calendarTimezone": "zone",
        **{name: "text" for name in ("paid", "type", "category", "duration", "calendar", "timezone", "location")},
        "classID": "code",
        "certificate": "code",
        "scheduledBy": "text",
        "addonIDs": "ids",
        "forms": "forms",
        "labels": "labels",
    },
    "orders": {
        "id": "id",
        **_PERSON,
        "total": "money",
        "time": "order_time",
        "status": "status",
        "title": "text",
    },
    "clients": dict(_PERSON),
    "appointment_types": {
        "id": "id",
        "name": "text",
        "category": "text",
        "duration": "int",
        "classSize": "int",
        "price": "money",
        "active": "bool",
    },
    "calendars": {"id": "id", "name": "text", "timezone": "zone", "location": "text", "email": "text"},
    "account": {"id": "id", "name": "text", "email": "text", "timezone": "zone", "currency": "text"},
    "addons": {"id": "id", "name": "text", "duration": "int", "price": "money", "private": "bool"},
    "certificates": {
        "id": "id",
        "certificate": "code",
        "productID": "int",
        "orderID": "int",
        "appointmentTypeIDs": "ids",
        "name": "text",
        "email": "text",
        "type": "text",
        "remainingCounts": "counts",
        "remainingMinutes": "int",
        "remainingValue": "money",
        "expiration": "date",
    },
}

# Keys Acuity always sends on these records; a record without one (or with null or "") loads, flagged
# ``missing_<key>``, the column reading its fallback or null. Keys real answers do leave out (calendarTimezone,
# datetimeCreated, priceSold, canceled, noShow, labels, classID, ...) are not here: their absence is normal.
REQUIRED: dict[str, tuple[str, ...]] = {
    "appointments": ("calendarID", "calendar", "type"),
    "orders": ("total", "time", "status"),
    "certificates": ("certificate",),
}


def order_statuses(project_dir: Path = PROJECT_DIR) -> frozenset[str] | None:
    """The order statuses seeds/order_statuses.csv lists, trimmed and lower-cased, as the models compare them (dbt
    reads the folder ACUITY_SEEDS_DIR names, relative to the project); None when the file cannot be read, so no
    status is flagged and dbt's seed step says what is wrong with it."""
    path = project_dir / os.environ.get("ACUITY_SEEDS_DIR", "seeds") / "order_statuses.csv"
    try:
        with path.open(newline="") as seed:
            return frozenset(str(row.get("status") or "").strip().lower() for row in csv.DictReader(seed))
    except (OSError, UnicodeDecodeError, csv.Error):
        return None


# Acuity went live in 2006 and books at most a few years ahead: a start outside these years is a broken record,
# and inside them every UTC conversion (offsets of -12..+14 h) stays within what datetime can represent.
PLAUSIBLE_YEARS = range(1900, 2200)

# What fills a value Acuity left out or sent unusable (the models apply them; docs/acuity-api.md lists them).
FALLBACKS: dict[tuple[str, str], str] = {
    ("appointments", "calendarTimezone"): "the calendar's timezone (/calendars), else the account's (/me)",
    ("appointments", "calendarID"): "the id of the one calendar (/calendars) with the appointment's calendar name",
    ("appointments", "calendar"): "the name of the calendar (/calendars) with the appointment's calendarID",
    ("appointments", "type"): "the name of the appointment type (/appointment-types) with its appointmentTypeID",
    ("appointments", "priceSold"): "price (no discount)",
    ("appointments", "canceled"): "false",
    ("appointments", "noShow"): "false",
    ("appointment_types", "active"): "true",
}

_APPOINTMENT_KEY = (
    "stg_acuity__appointments:primary_key",
    "int_acuity__appointments_enriched:primary_key",
    "int_acuity__appointments_matched:primary_key",
    "appointments:primary_key",
    "appointments.appointment_id:not_null",
    "future_appointments:primary_key",
    "future_appointments.appointment_id:not_null",
    "last_run_changes:primary_key",
)
GUARDS: dict[tuple[str, str], tuple[str, ...]] = {
    # no usable id: quarantined; one copy per id and answer (duplicates are deduplicated)
    ("appointments", "id"): _APPOINTMENT_KEY,
    # no usable start (missing, unparseable, no offset and no zone to read it in): quarantined
    ("appointments", "datetime"): (
        "future_appointments.starts_at_local:not_null",
        "future_appointments.starts_at_utc:not_null",
        "future_appointments.utc_offset_minutes:not_null",
        "appointments.starts_at_local:not_null",
    ),
    # elements without an integer id (or repeated) are flagged and left out of the bridge tables
    ("appointments", "forms"): (
        "stg_acuity__appointment_form_answers:primary_key",
        "appointment_form_answers:primary_key",
        "appointment_form_answers.form_name:not_null",
        "appointment_form_answers.field_name:not_null",
    ),
    ("appointments", "labels"): (
        "stg_acuity__appointment_labels:primary_key",
        "appointment_labels:primary_key",
        "appointment_labels.label_name:not_null",
    ),
    ("orders", "id"): (
        "stg_acuity__orders:primary_key",
        "int_acuity__orders_matched:primary_key",
        "orders:primary_key",
        "orders.order_id:not_null",
        "last_run_changes:primary_key",
    ),
    # an id that is no integer, or one listed twice, is flagged and left out of the bridge
    ("appointments", "addonIDs"): ("stg_acuity__appointment_addons:primary_key", "appointment_addons:primary_key"),
    ("appointment_types", "id"): ("stg_acuity__appointment_types:primary_key",),
    ("calendars", "id"): ("stg_acuity__calendars:primary_key",),
    ("addons", "id"): ("stg_acuity__addons:primary_key",),
    ("certificates", "id"): ("stg_acuity__certificates:primary_key", "certificates:primary_key"),
}


# Record-level constraints no Acuity record can break, and why.
def _each(why: str, *names: str) -> dict[str, str]:
    return dict.fromkeys(names, why)


_MATCHED = ("future_appointments", "appointments", "orders", "int_acuity__appointments_matched",
            "int_acuity__orders_matched")  # fmt: skip
_RUN_METRICS = (
    "run_id", "as_of", "window_first", "window_last", "fetched", "appointments_attempted", "appointments_persisted",
    "future_appointments", "contacts_processed", "contacts", "contacts_with_revenue", "total_revenue",
    "unmatched_revenue", "is_latest",
)  # fmt: skip
DERIVED: dict[str, str] = {
    **_each(
        "stamped on every row by the pipeline",
        *(
            f"{model}.tenant_id:not_null"
            for model in (
                "future_appointments",
                "contacts",
                "appointments",
                "orders",
                "contact_revenue",
                "revenue_reconciliation",
                "sync_runs",
                "sync_metrics",
            )
        ),
    ),
    **_each(
        "computed by macros/match_to_contact.sql (a case with an else)",
        *(f"{model}.match_rule:{test}" for model in _MATCHED for test in ("not_null", "accepted_values")),
    ),
    **_each(
        "contact ids come from int_acuity__clients_resolved, as contacts' do",
        *(f"{model}.contact_id:relationships" for model in _MATCHED),
    ),
    **_each("the mart keeps only starts at or after as-of", "future_appointments:expression_is_true"),
    **_each(
        "the latest successful run row",
        "future_appointments.run_id:not_null",
        "future_appointments.as_of:not_null",
        "appointments.as_of:not_null",
        "int_acuity__latest_runs:primary_key",
        "int_acuity__latest_runs.run_id:not_null",
        "int_acuity__latest_runs.as_of:not_null",
    ),
    **_each(
        "a case over booleans that are never null",
        "appointments.status:not_null",
        "appointments.status:accepted_values",
    ),
    **_each("coalesce(..., false)", "appointments.is_future:not_null"),
    **_each("coalesce(canceled, its variants, false): a missing key is false", "appointments.is_canceled:not_null"),
    **_each("coalesce(noShow, false): a missing key is false", "appointments.is_no_show:not_null"),
    **_each("whether dlt retired the version", "appointments.is_removed:not_null", "orders.is_removed:not_null"),
    **_each("count(*) over the record's versions", "appointments.version_count:not_null"),
    **_each(
        "coalesce over seeds/order_statuses.csv: an unknown status is not revenue", "orders.counts_as_revenue:not_null"
    ),
    **_each("dlt's row hash; identical copies in one answer are deduplicated", "stg_acuity__clients:primary_key"),
    **_each("one /me answer per tenant and run", "stg_acuity__account:primary_key"),
    **_each(
        "written by the pipeline",
        "stg_acuity__rejected_records.action:accepted_values",
        "stg_acuity__sync_runs:primary_key",
        "stg_acuity__sync_runs.status:accepted_values",
    ),
    **_each(
        "aggregated from contacts' client records, appointments and orders",
        *(
            f"contacts.{column}:not_null"
            for column in (
                "contact_id",
                "client_records",
                "merge_rule",
                "merge_identifier",
                "appointments",
                "cancellations",
                "no_shows",
                "revenue_orders",
                "order_revenue",
                "appointment_payments",
                "total_collected",
            )
        ),
        "contacts.contact_id:unique",
        "contacts.merge_rule:accepted_values",
    ),
    **_each(
        "aggregated from contacts",
        "contact_revenue:primary_key",
        "contact_revenue.order_revenue:expression_is_true",
        *(
            f"contact_revenue.{column}:not_null"
            for column in (
                "contact_id",
                "revenue_orders",
                "order_revenue",
                "appointment_payments",
                "total_collected",
            )
        ),
    ),
    **_each(
        "one row per tenant's latest run; coalesce(sum, 0)",
        "revenue_reconciliation:primary_key",
        "revenue_reconciliation:expression_is_true",
        *(
            f"revenue_reconciliation.{column}:not_null"
            for column in (
                "revenue_orders",
                "total_revenue",
                "matched_revenue",
                "unmatched_revenue",
                "unmatched_orders",
                "contacts_with_revenue",
                "appointment_payments",
                "matched_appointment_payments",
                "unmatched_appointment_payments",
                "total_collected",
                "contacts_paying",
            )
        ),
    ),
    **_each(
        "distinct identifiers of resolved contacts",
        "contact_identifiers:primary_key",
        "int_acuity__contact_identifiers:primary_key",
        "int_acuity__contact_identifiers.identifier_type:accepted_values",
    ),
    **_each(
        "computed from dlt's row hash of a current client record",
        "int_acuity__clients_resolved.contact_id:not_null",
        "int_acuity__clients_resolved.merge_rule:accepted_values",
        "int_acuity__clients_resolved.client_record_id:unique",
    ),
    **_each("one row per tenant's latest run", "int_acuity__run_buckets:primary_key"),
    **_each(
        "run metrics: computed from the run row and the marts, judged per tenant's latest run",
        "sync_runs:primary_key",
        "sync_runs:expression_is_true",
        "sync_metrics:primary_key",
        "sync_freshness:primary_key",
        *(f"sync_metrics.{column}:not_null" for column in _RUN_METRICS),
        *(f"sync_runs.{column}:not_null" for column in ("tenant_id", "run_id", "as_of", "is_latest")),
    ),
    **_each("a case over the kinds of change, with an else", "last_run_changes.change:accepted_values"),
}
