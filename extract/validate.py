"""Record checks at the door: bad records are never fatal and never silent.

The conservation law: every record an endpoint returned is loaded, loaded and flagged, or quarantined, and counted.

- Quarantined (action ``skipped``): a record the raw layer cannot hold or place — an element that is not a JSON
  object, no usable id, no usable start time (missing, unparseable, or a year no appointment can have), or a value
  no warehouse column can store (an integer beyond 64 bits, text with a lone UTF-16 surrogate). It goes to
  ``rejected_records`` with its payload and ONE reason (the most serious), instead of its own table.
- Flagged (action ``kept``): a record that loads but carries a value its column cannot hold as Acuity meant it —
  money that is not a number or is beyond ``decimal(14, 2)``, a boolean/id field of another type (dlt would put it
  in a variant column that staging does not read), an unknown time zone. It loads as usual and is listed once per
  bad field, so an analyst can find and fix it in Acuity; staging treats it conservatively (a non-boolean
  ``canceled`` counts as canceled).
- Flagged too (``kept``), and made safe: a record whose top-level keys dlt would load into one column — two keys
  that normalise alike (``firstName`` and ``first_name``, ``Canceled`` and ``canceled``: dlt keeps whichever comes
  last), or a key that would overwrite a column of the pipeline's own (``_dlt_id``, scd2's row hash; ``_dlt_valid_to``;
  the ``tenant_id`` stamp). The loaded row keeps Acuity's documented key and drops the others (``surplus_keys``);
  their values stay in the record's ``rejected_records`` payload. Nested objects load as JSON, their keys untouched.
- Duplicates of an id within one response keep the first copy; the others are listed as ``deduplicated``.

Reasons name the field: ``invalid_bool_canceled``, ``money_out_of_range_price``, ``int_out_of_range_calendarID``,
``key_collision_first_name`` (the column), ``reserved_key__dlt_id`` (the key).
Nothing here raises on any JSON value: the checks run on whatever the server sent.
"""

from __future__ import annotations

import json
import math
import re
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache
from typing import Any

import orjson
from dlt.common.normalizers.json.relational import DataItemNormalizer
from dlt.common.normalizers.naming.snake_case import NamingConvention

from extract.contract import FIELDS, PLAUSIBLE_YEARS, REQUIRED
from extract.repair import parse_time

_MONEY = re.compile(r"^(-?\d+)(\.\d+)?$")
_ORDER_TIME = re.compile(r"^ *(\d{4})-\d{2}-\d{2} \d{2}:\d{2} *$")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(?:$|[T ])")
# decimal(14, 2) holds |value| <= 999,999,999,999.99; a value that rounds past it would not cast
MONEY_LIMIT = Decimal("999999999999.995")
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
RECORD_ID_CHARS = 100  # a record id longer than this is shown cut: it is a broken id, and the payload has it whole
# A nested id (forms[].id, forms[].values[].fieldID, labels[].id) as the models read it: the text of a JSON integer
# that fits a bigint (staging's try-cast uses the same pattern), so an element flagged here is exactly one staging
# leaves out of the bridge tables.
NESTED_ID = re.compile(r"-?\d{1,18}")

MONEY_FIELDS = {resource: tuple(n for n, k in fields.items() if k == "money") for resource, fields in FIELDS.items()}
# Columns a record may not bring: dlt's own (its prefix: the row hash ``_dlt_id`` scd2 compares versions by, the
# validity range, the load id) and the tenant stamp ``extract.source`` puts on every row.
RESERVED_PREFIX = "_dlt"
RESERVED_COLUMNS = frozenset({"tenant_id"})
# Acuity's own spelling (lowerCamelCase: firstName, calendarID, addonIDs): the key kept when two collide and neither
# is in FIELDS
_ACUITY_KEY = re.compile(r"[a-z][A-Za-z0-9]*")
_NAMING = NamingConvention()  # dlt's default, which the source's schema uses (tests/unit/test_validate.py)
KEY_SETS_CACHED = 1024  # distinct key sets remembered per resource (an answer's records share one or a few)


@dataclass(frozen=True)
class Issue:
    reason: str
    action: str  # skipped | kept | deduplicated

    @property
    def skips(self) -> bool:
        return self.action == "skipped"


@cache
def _known_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def parse_start(value: Any) -> datetime | None:
    """An appointment's ``datetime`` as an aware datetime, or None when it is not a usable start time.

    Never raises: a year outside PLAUSIBLE_YEARS (0001, 9999) is None, so converting the result to UTC (or moving
    it by a day) cannot overflow. Paging can use it to move its cursor.
    """
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None or parsed.year not in PLAUSIBLE_YEARS:
        return None
    return parsed


def start_instant(value: Any) -> datetime | None:
    """The start in UTC (see parse_start); never raises."""
    parsed = parse_start(value)
    return parsed.astimezone(UTC) if parsed is not None else None


def start_time_issue(row: dict[str, Any]) -> Issue | None:
    """Why an appointment has no usable start (it is then quarantined), or None.

    ``extract.repair.normalise_times`` has already rewritten every time it could place; what is left here is missing,
    not a time, outside PLAUSIBLE_YEARS, or without an offset where no zone (calendar's or account's) was known.
    """
    value = row.get("datetime")
    if value is None or value == "":
        return Issue("missing_datetime", "skipped")
    if parse_start(value) is not None:
        return None
    if parse_time(value, "UTC") is not None:  # a time of day in range, only its offset missing
        return Issue("datetime_without_offset", "skipped")
    try:
        year = datetime.fromisoformat(value).year if isinstance(value, str) else None
    except ValueError:
        year = None
    if year is not None and year not in PLAUSIBLE_YEARS:
        return Issue("datetime_out_of_range", "skipped")
    return Issue("invalid_datetime", "skipped")


def record_issues(resource: str, row: Any, statuses: frozenset[str] | None = None) -> list[Issue]:
    """What is wrong with one record: one ``skipped`` issue when it cannot load, else its ``kept`` flags.

    ``statuses``: the order statuses seeds/order_statuses.csv lists (trimmed, lower-cased); None checks none. Runs
    for every record of every sync (~5 µs for an appointment), so the common case is a few type checks and one
    lookup of the record's key set.
    """
    if not isinstance(row, dict):
        return [Issue("not_an_object", "skipped")]
    if (unloadable := _unloadable(row)) is not None:
        return [unloadable]
    spec = _spec(resource)
    if spec.has_id and (bad_id := _id_issue(row.get("id"))) is not None:
        return [bad_id]
    if spec.has_start and (start := start_time_issue(row)) is not None:
        return [start]
    issues = []
    get = row.get
    for name, expected in spec.typed:
        value = get(name)
        if value is not None and type(value) is not expected:
            issues.append(Issue(f"{_TYPE_REASONS[expected]}_{name}", "kept"))
    for name, check in spec.checked:
        value = get(name)
        if value is not None and (reason := check(value)) is not None:
            # one time zone field per resource: its reason needs no field name (and keeps its historical name)
            issues.append(Issue(reason if reason == "unknown_timezone" else f"{reason}_{name}", "kept"))
    for name in spec.required:
        value = get(name)
        if value is None or value == "":
            issues.append(Issue(f"missing_{name}", "kept"))
    for name in spec.statuses:
        value = get(name)
        if statuses is not None and type(value) is str and value.strip().lower() not in statuses and value.strip():
            issues.append(Issue(f"unknown_{name}", "kept"))
    for name, check_nested in spec.nested:
        value = get(name)
        if value is not None:
            issues.extend(Issue(reason, "kept") for reason in check_nested(name, value))
    if (keys := spec.keys(row)).issues:
        issues.extend(keys.issues)
    return issues


def surplus_keys(resource: str, row: dict[str, Any]) -> tuple[str, ...]:
    """The keys a flagged record's loaded row drops: colliding duplicates of the key it keeps, and reserved names.

    Their values are not lost: the record's ``rejected_records`` rows carry its whole payload.
    """
    return _spec(resource).keys(row).surplus


def column_name(key: str) -> str:
    """The column dlt loads a top-level key into: its relational normaliser's rule (the schema's default naming,
    snake_case; an empty or blank key is ``_empty``)."""
    return _NAMING.normalize_identifier(key) if key and not key.isspace() else DataItemNormalizer.EMPTY_KEY_IDENTIFIER


@dataclass(frozen=True)
class _Keys:
    """What a set of top-level keys holds: the flags it earns and the keys the loaded row drops."""

    issues: tuple[Issue, ...] = ()
    surplus: tuple[str, ...] = ()


_CLEAN_KEYS = _Keys()


def _screen_keys(names: tuple[Any, ...], documented: dict[str, str]) -> _Keys:
    """Flag keys that dlt would load into a column already taken, and pick the one key each column keeps.

    Two keys that normalise alike would both load into one column, the last one silently winning; the kept key is
    Acuity's documented one (FIELDS), else one in Acuity's spelling, else the first in sorted order. A key that
    normalises to a reserved column is dropped whatever it holds.
    """
    issues: list[Issue] = []
    surplus: list[str] = []
    columns: dict[str, list[str]] = {}
    for key in names:
        column = column_name(str(key))
        if column.startswith(RESERVED_PREFIX) or column in RESERVED_COLUMNS:
            issues.append(Issue(f"reserved_key_{_printable(key)}", "kept"))
            surplus.append(key)
        else:
            columns.setdefault(column, []).append(key)
    for column, keys in columns.items():
        if len(keys) > 1:
            kept = min(keys, key=lambda k: (k not in documented, _ACUITY_KEY.fullmatch(str(k)) is None, str(k)))
            issues.append(Issue(f"key_collision_{_printable(column)}", "kept"))
            surplus.extend(key for key in keys if key != kept)
    return _Keys(tuple(issues), tuple(surplus)) if issues else _CLEAN_KEYS


def _id_issue(value: Any) -> Issue | None:
    if value is None:
        return Issue("missing_id", "skipped")
    if type(value) is not int:
        return Issue("invalid_id", "skipped")
    return None


# A value of another type than these lands elsewhere than its declared column: dlt puts a non-boolean `canceled`
# or a non-integer id in a variant column (`canceled__v_text`) that staging reads only where it says so, and
# stores a non-finite number in a text column as NULL. int64 range is guaranteed by _unloadable.
_TYPED = {"text": str, "code": str, "status": str, "int": int, "bool": bool}
_TYPE_REASONS: dict[type, str] = {str: "invalid_text", int: "invalid_int", bool: "invalid_bool"}


def _zone(value: Any) -> str | None:
    if type(value) is not str:
        return "invalid_text"
    return None if not value or value in _known_zones() else "unknown_timezone"


def _money(value: Any) -> str | None:
    """Money is a decimal string (``"120.50"``); a JSON number is accepted as what dlt stores: its ``str``."""
    kind = type(value)
    if kind is float and not math.isfinite(value):
        return "money_out_of_range"
    if kind is not str and kind is not int and kind is not float:
        return "invalid_money"
    text = value.strip() if kind is str else str(value)
    match = _MONEY.match(text)
    if match is None:
        return None if not text else "invalid_money"
    if len(match.group(1)) <= 11:  # at most 11 characters before the point: far inside the limit
        return None
    return "money_out_of_range" if abs(Decimal(text)) >= MONEY_LIMIT else None


def _datetime(value: Any) -> str | None:
    if value == "":
        return None
    return None if parse_start(value) is not None else "invalid_datetime"


def _order_time(value: Any) -> str | None:
    match = _ORDER_TIME.match(value) if type(value) is str else None
    if match is None:
        return None if value == "" else "invalid_datetime"
    return None if int(match.group(1)) in PLAUSIBLE_YEARS else "invalid_datetime"


def _nested_id(value: Any) -> bool:
    """Whether staging reads ``value`` as a nested id (``NESTED_ID``; a JSON integer, or its text)."""
    if type(value) is int:
        return NESTED_ID.fullmatch(str(value)) is not None
    return type(value) is str and NESTED_ID.fullmatch(value) is not None


def _elements(value: Any) -> list[Any] | None:
    return value if isinstance(value, list) else None


def _forms(name: str, value: Any) -> list[str]:
    """``forms[]{id, values[]{fieldID}}``: each form and field needs an id (else staging leaves it out of
    appointment_form_answers: flagged ``invalid_forms``) and each (form, field) one answer (``duplicate_form_field``:
    the first is kept)."""
    forms = _elements(value)
    if forms is None:
        return [f"invalid_{name}"]
    invalid, seen, duplicate = False, set(), False
    for form in forms:
        fields = _elements(form.get("values")) if isinstance(form, dict) else None
        if fields is None or not _nested_id(form.get("id")):
            invalid = True
            continue
        for answer in fields:
            if not isinstance(answer, dict) or not _nested_id(answer.get("fieldID")):
                invalid = True
                continue
            key = (int(form["id"]), int(answer["fieldID"]))
            duplicate = duplicate or key in seen
            seen.add(key)
    return [f"invalid_{name}"] * invalid + ["duplicate_form_field"] * duplicate


def _labels(name: str, value: Any) -> list[str]:
    """``labels[]{id, name, color}``: each label needs an id (``invalid_labels``), once (``duplicate_label``)."""
    labels = _elements(value)
    if labels is None:
        return [f"invalid_{name}"]
    ids = [label.get("id") for label in labels if isinstance(label, dict) and _nested_id(label.get("id"))]
    invalid = len(ids) < len(labels)
    duplicate = len({int(key) for key in ids}) < len(ids)
    return [f"invalid_{name}"] * invalid + ["duplicate_label"] * duplicate


def _ids(name: str, value: Any) -> list[str]:
    """A list of ids (``addonIDs``): each an integer (``invalid_<name>``), once (``duplicate_<name>``); staging leaves
    out of the bridge an element that is none, and counts a repeat once."""
    ids = _elements(value)
    if ids is None:
        return [f"invalid_{name}"]
    valid = [int(key) for key in ids if _nested_id(key)]
    return [f"invalid_{name}"] * (len(valid) < len(ids)) + [f"duplicate_{name}"] * (len(set(valid)) < len(valid))


_NESTED: dict[str, Callable[[str, Any], list[str]]] = {"forms": _forms, "labels": _labels, "ids": _ids}


def _counts(value: Any) -> str | None:
    """Uses left on a code: an integer (the community OpenAPI's type) or integers keyed by appointment type id (what
    integrations read from real answers); staging reads either, anything else is null."""
    if type(value) is int:
        return None
    if isinstance(value, dict) and all(_nested_id(key) and type(n) is int for key, n in value.items()):
        return None
    return "invalid_counts"


def _date(value: Any) -> str | None:
    """An ISO 8601 date, maybe followed by a time (Acuity's expiration example: ``2018-01-01T12:00:00``)."""
    if value == "":
        return None
    if type(value) is not str or not _DATE.match(value):
        return "invalid_date"
    try:
        day = date.fromisoformat(value[:10])
    except ValueError:
        return "invalid_date"
    return None if day.year in PLAUSIBLE_YEARS else "invalid_date"


_CHECKS: dict[str, Callable[[Any], str | None]] = {
    "money": _money,
    "datetime": _datetime,
    "zone": _zone,
    "order_time": _order_time,
    "counts": _counts,
    "date": _date,
}


@dataclass(frozen=True)
class _Spec:
    fields: dict[str, str]
    has_id: bool
    has_start: bool
    typed: tuple[tuple[str, type], ...]
    checked: tuple[tuple[str, Callable[[Any], str | None]], ...]
    required: tuple[str, ...]
    statuses: tuple[str, ...]
    nested: tuple[tuple[str, Callable[[str, Any], list[str]]], ...]
    key_sets: dict[tuple[Any, ...], _Keys] = field(default_factory=dict, compare=False)

    def keys(self, row: dict[str, Any]) -> _Keys:
        """What the record's top-level keys hold. Runs for every record: the records of an answer share one key set,
        so the common case is one lookup; a new set is checked once and remembered."""
        names = tuple(row)
        verdict = self.key_sets.get(names)
        if verdict is None:
            if len(self.key_sets) >= KEY_SETS_CACHED:  # a server that varies its keys per record: bounded memory
                self.key_sets.clear()
            verdict = self.key_sets[names] = _screen_keys(names, self.fields)
        return verdict


@cache
def _spec(resource: str) -> _Spec:
    fields = FIELDS.get(resource, {})
    return _Spec(
        fields=fields,
        has_id=fields.get("id") == "id",
        has_start=fields.get("datetime") == "start",
        typed=tuple((name, _TYPED[kind]) for name, kind in fields.items() if kind in _TYPED),
        checked=tuple((name, _CHECKS[kind]) for name, kind in fields.items() if kind in _CHECKS),
        required=REQUIRED.get(resource, ()),
        statuses=tuple(name for name, kind in fields.items() if kind == "status"),
        nested=tuple((name, _NESTED[kind]) for name, kind in fields.items() if kind in _NESTED),
    )


def _unloadable(row: dict[str, Any]) -> Issue | None:
    """A value nothing downstream can store, anywhere in the record: an int beyond 64 bits, a lone surrogate, or
    nesting deeper than dlt's JSON writer (orjson) accepts.

    Serialising with orjson is the fast screen (~1 µs a record; a full Python walk costs ten times that): it refuses
    exactly these, plus ints beyond 53 bits, which the walk then clears or names.
    """
    try:
        orjson.dumps(row, option=orjson.OPT_STRICT_INTEGER)
        return None
    except TypeError as exc:
        refusal = str(exc)
    try:
        for name, value in row.items():
            if (reason := _exotic(name) or _exotic(value)) is not None:
                return Issue(f"{reason}_{_printable(name)}", "skipped")
    except RecursionError:
        return Issue("nested_too_deep", "skipped")
    if "Recursion" in refusal:
        return Issue("nested_too_deep", "skipped")
    return None


def _exotic(value: Any) -> str | None:
    """Why ``value`` (or anything inside it) cannot be stored, or None."""
    if type(value) is str:
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return "invalid_unicode"
        return None
    if type(value) is int:
        return None if INT64_MIN <= value <= INT64_MAX else "int_out_of_range"
    if isinstance(value, dict):
        for key, item in value.items():
            if (reason := _exotic(key) or _exotic(item)) is not None:
                return reason
    elif isinstance(value, list):
        for item in value:
            if (reason := _exotic(item)) is not None:
                return reason
    return None


def _printable(text: Any) -> str:
    """Text safe for any column: a lone surrogate becomes its escape, an overlong value is cut."""
    shown = str(text).encode("utf-8", "backslashreplace").decode("utf-8")
    return shown if len(shown) <= RECORD_ID_CHARS else shown[:RECORD_ID_CHARS] + "…"


def rejected_row(tenant_id: str, run_id: str, resource: str, row: Any, issue: Issue) -> dict[str, Any]:
    """One ``rejected_records`` row: what, why, what we did, and the payload exactly as received.

    The payload is JSON with non-ASCII escaped, so any value (a lone surrogate, 1e309 read as infinity) is stored.
    """
    record_id = row.get("id") if isinstance(row, dict) else None
    return {
        "tenant_id": tenant_id,
        "run_id": run_id,
        "resource": resource,
        "record_id": _printable(record_id) if record_id is not None else None,
        "reason": issue.reason,
        "action": issue.action,
        "payload": _payload(row),
    }


def _payload(row: Any) -> str:
    try:
        return json.dumps(row, sort_keys=True, default=str)
    except RecursionError:  # nesting deeper than Python's stack; the reason says so
        return json.dumps({"unserialisable_payload": "nested deeper than Python's recursion limit"})
