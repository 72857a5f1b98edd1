"""Property-based fuzzing of bad input: records and responses mutated in type, range, nullness, list shape, size,
unicode and key names. The properties: the checks never raise; every record is loaded, loaded and flagged, or
quarantined, and counted (the conservation law); what loads fills each column from one key; and no record-level fault
fails a load.

CI-sized: the unit-tier properties run the checks and the screen directly (hundreds of examples in seconds); a few
examples load through dlt into a throwaway DuckDB (the real source over a fake Acuity, then the sandbox over HTTP).
"""

from __future__ import annotations

import contextlib
import json
import math
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from random import Random
from typing import Any

import dlt
import duckdb
import orjson
import pytest
from helpers import API_KEY, AS_OF, USER_ID, sandbox_env
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from extract.client import decode_json
from extract.config import SyncSettings, Tenant
from extract.paging import read_appointment_window
from extract.pipeline import sync_tenant
from extract.repair import as_int, as_received
from extract.source import AppointmentWindow, SyncCounts, _Screen, acuity_source
from extract.validate import FIELDS, RESERVED_COLUMNS, RESERVED_PREFIX, column_name, record_issues, start_instant
from sandbox import Fault, SandboxServer, build_account
from sandbox.account import AppointmentQuery

DELETE = object()
HOSTILE_TEXT = [
    "",
    "maybe",
    "abc",
    "0001-01-01T00:00:00+1400",
    "9999-12-31T23:59:59-1200",
    "2026-13-45T99:00:00-0500",
    "99999999999999.99",
    "-0.00",
    "1e309",
    "NaN",
    "\ud800",
    "a\udfffb",
    "\x00",
    "😀" * 50,
    "名前",
    "x" * 10_000,
    "Robert'); DROP TABLE appointments;--",
]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([2**63 - 1, 2**63, -(2**63), -(2**63) - 1, 2**64, 0, -1]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(HOSTILE_TEXT),
)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=4), children, max_size=3),
    max_leaves=6,
)
not_objects = st.one_of(scalars, st.lists(scalars, max_size=2))
extra_keys = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=6).map(lambda k: "zz" + k)
# the list endpoints the money resources read, and every resource the screen sees
NEW_LISTS = ("/appointment-addons", "/certificates")
SCREENED = ("clients", "orders", "appointment_types", "calendars", "appointments", "addons", "certificates")
# keys dlt would load into a column already taken: another spelling of a record's key, or one of the pipeline's own
RESERVED_KEYS = ["_dlt_id", "_dlt_valid_to", "_DLT_LOAD_ID", "tenant_id", "tenantId", "", " "]


def twin_keys(keys: list[str]) -> st.SearchStrategy[str]:
    spellings = [column_name, str.upper, lambda k: k[:1].upper() + k[1:], lambda k: f" {k}"]
    twins = st.tuples(st.sampled_from(keys), st.sampled_from(spellings)).map(lambda pair: pair[1](pair[0]))
    return st.one_of(twins, st.sampled_from(RESERVED_KEYS))


def mutate(data: st.DataObject, row: dict[str, Any], resource: str, protect: tuple[str, ...] = ()) -> dict[str, Any]:
    """A copy of ``row`` with up to four fields set to hostile values, deleted, or added (new names, or another
    spelling of a name the record has)."""
    keys = [k for k in sorted({*FIELDS[resource], *row}) if k not in protect]
    result = dict(row)
    for _ in range(data.draw(st.integers(0, 4), label="mutations")):
        key = data.draw(st.one_of(st.sampled_from(keys), extra_keys, twin_keys(keys)), label="field")
        value = data.draw(st.one_of(st.just(DELETE), json_values), label="value")
        if value is DELETE:
            result.pop(key, None)
        else:
            result[key] = value
    return result


def mutate_list(
    data: st.DataObject, rows: list[dict[str, Any]], resource: str, protect: tuple[str, ...] = (), objects: bool = True
) -> list[Any]:
    """Some records mutated; with ``objects``, also elements that are not objects at all (null, text, numbers)."""
    result: list[Any] = [
        mutate(data, row, resource, protect) if data.draw(st.booleans(), label="mutate?") else dict(row) for row in rows
    ]
    if objects:
        for _ in range(data.draw(st.integers(0, 3), label="non-objects")):
            result.insert(data.draw(st.integers(0, len(result)), label="at"), data.draw(not_objects, label="element"))
    return result


def takes_a_column(keys: tuple[str, ...]) -> bool:
    """Two of the keys load into one column, or one into a column of the pipeline's own."""
    columns = [column_name(key) for key in keys]
    reserved = [c for c in columns if c.startswith(RESERVED_PREFIX) or c in RESERVED_COLUMNS]
    return len(set(columns)) < len(columns) or bool(reserved)


def storable(value: Any) -> bool:
    """What dlt's writers accept: orjson serialises it (no lone surrogates, no ints beyond 64 bits)."""
    try:
        orjson.dumps(value)
    except TypeError:
        return False
    return True


@pytest.fixture(scope="module")
def account_records() -> dict[str, list[dict[str, Any]]]:
    account = build_account("seed", 42, AS_OF)
    return {
        "appointments": account.appointments(AppointmentQuery(max=40, status="all", descending=False)),
        "clients": list(account.clients())[:40],
        "orders": list(account.orders(40)),
        "appointment_types": account.appointment_types(),
        "calendars": account.calendars(),
        "account": [account.me(int(USER_ID))],
        "addons": account.addons(),
        "certificates": account.certificates(),
    }


# ---- unit tier: the checks and the screen ----------------------------------------------------------------------
@pytest.mark.unit
@settings(max_examples=400, deadline=None)
@given(resource=st.sampled_from(sorted(FIELDS)), value=json_values)
def test_the_checks_never_raise_on_any_json_value(resource: str, value: Any) -> None:
    issues = record_issues(resource, value)
    if issues and issues[0].skips:
        assert len(issues) == 1, "a quarantined record has one reason"
    else:
        assert all(issue.action == "kept" for issue in issues)
        assert isinstance(value, dict)


@pytest.mark.unit
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), resource=st.sampled_from(sorted(FIELDS)))
def test_the_screen_conserves_every_record_and_stores_every_rejection(
    account_records: dict[str, list[dict[str, Any]]], data: st.DataObject, resource: str
) -> None:
    rows = mutate_list(data, account_records[resource][:15], resource)
    sent_keys = [tuple(row) if isinstance(row, dict) else () for row in rows]
    counts = SyncCounts()
    screen = _Screen(resource, "t", "run", counts)

    kept = screen.accepted(rows)

    skipped = counts.set_aside(resource, "skipped")
    assert len(kept) + skipped == len(rows), "loaded + quarantined = fetched"
    assert all(isinstance(row, dict) and storable(row) for row in kept), "what is kept can be written"
    rejected = screen.rejected
    assert sum(r["action"] == "skipped" for r in rejected) == skipped
    assert counts.set_aside(resource, "kept") == sum(r["action"] == "kept" for r in rejected)
    for row in rejected:
        assert row["payload"].isascii() and storable(row)
        json.loads(row["payload"])
    for row in kept:  # what loads fills each column from one key, and none of the pipeline's own
        assert not takes_a_column(tuple(row)), row.keys()
    key_flags = sum(r["reason"].startswith(("key_collision_", "reserved_key_")) for r in rejected)
    assert key_flags >= sum(  # never silent: each loaded record that sent keys for a taken column is flagged
        1
        for row, keys in zip(rows, sent_keys, strict=True)
        if any(row is as_received(k) for k in kept) and takes_a_column(keys)
    )
    kept_ids = {id(row) for row in kept}
    flagged_fields = {(r["record_id"], r["reason"]) for r in rejected if r["action"] == "kept"}
    for row in kept:  # never silent: a typed field of the wrong type is flagged by name
        for name, kind in FIELDS[resource].items():
            value = row.get(name)
            wrong = value is not None and {"int": int, "bool": bool, "text": str}.get(kind, type(value)) is not type(
                value
            )
            if wrong and id(row) in kept_ids:
                record_id = None if row.get("id") is None else str(row.get("id"))[:100]
                assert any(reason.endswith(f"_{name}") for rid, reason in flagged_fields if rid == record_id), (
                    name,
                    value,
                )


@pytest.mark.unit
@settings(max_examples=300, deadline=None)
@given(value=json_values)
def test_a_json_body_decodes_whatever_numbers_and_strings_it_holds(value: Any) -> None:
    decoded = decode_json(json.dumps(value).encode())
    assert json.dumps(decoded) == json.dumps(value)  # inf and nan survive as what they are


@pytest.mark.unit
@settings(max_examples=200, deadline=None)
@given(body=st.binary(max_size=40))
def test_a_body_is_json_or_a_value_error_never_anything_else(body: bytes) -> None:
    with contextlib.suppress(ValueError):
        decode_json(body)


def fake_appointments(rows: list[Any]) -> Any:
    """An Acuity that ignores minDate/maxDate and truncates at ``max``, in the order given."""

    def fetch(endpoint: str, params: dict[str, Any]) -> list[Any]:
        return rows[: params["max"]]

    return fetch


def honest_appointments(rows: list[dict[str, Any]]) -> Any:
    """An Acuity that filters by local date, sorts ascending and truncates at ``max``: paging must page."""

    def fetch(endpoint: str, params: dict[str, Any]) -> list[Any]:
        dated = [r for r in rows if params["minDate"] <= r["datetime"][:10] <= params["maxDate"]]
        return sorted(dated, key=lambda r: (start_instant(r["datetime"]), r["id"]))[: params["max"]]

    return fetch


@pytest.mark.unit
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_paging_and_the_screen_conserve_any_appointment_answer(
    account_records: dict[str, list[dict[str, Any]]], data: st.DataObject
) -> None:
    """One answer with anything in it: every element is read, a duplicate, on a pad day beside the window or outside
    it (paging's contract), and every element read is loaded or quarantined (the screen's)."""
    rows = mutate_list(data, account_records["appointments"][:20], "appointments")
    counts = SyncCounts()
    screen = _Screen("appointments", "t", "run", counts)
    duplicates: list[Any] = []
    outside: list[Any] = []
    edge: list[Any] = []
    window = (AS_OF - timedelta(days=800), AS_OF + timedelta(days=800))

    read = list(read_appointment_window(fake_appointments(rows), *window, 1000, duplicates, outside, edge=edge))
    kept = screen.accepted(read)

    assert len(read) + len(duplicates) + len(outside) + len(edge) == len(rows), "nothing the answer held vanished"
    assert len(kept) + counts.set_aside("appointments", "skipped") == len(read)


@pytest.mark.unit
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), expected=st.integers(1, 6))
def test_truncated_answers_are_paged_through_and_every_appointment_is_conserved(
    account_records: dict[str, list[dict[str, Any]]], data: st.DataObject, expected: int
) -> None:
    """Answers truncated at a small ``max``: every appointment still arrives once, whatever its other fields hold."""
    rows = mutate_list(data, account_records["appointments"][:20], "appointments", ("id", "datetime"), objects=False)
    counts = SyncCounts()
    screen = _Screen("appointments", "t", "run", counts)
    window = (AS_OF - timedelta(days=800), AS_OF + timedelta(days=800))

    read = list(read_appointment_window(honest_appointments(rows), *window, 1, expected=expected))

    assert sorted(r["id"] for r in read) == sorted(r["id"] for r in rows)
    kept = screen.accepted(read)
    assert len(kept) + counts.set_aside("appointments", "skipped") == len(rows)


# ---- through dlt into DuckDB --------------------------------------------------------------------------------------
class FakeAcuity:
    """Stands in for AcuityClient: fixed answers per endpoint (appointments: all of them, never truncated)."""

    base_url = "https://acuityscheduling.com/api/v1"

    def __init__(self, answers: dict[str, Any]) -> None:
        self.answers = answers

    def get(self, endpoint: str, params: dict[str, Any] | None = None) -> Any:
        return self.answers[endpoint]


def loaded_and_quarantined(warehouse: Path, fetched: Counter[str]) -> dict[str, tuple[int, int, int]]:
    """(fetched, loaded, quarantined) per screened resource, read back from the warehouse."""
    result = {}
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        tables = {r[0] for r in connection.execute("select table_name from information_schema.tables").fetchall()}
        for resource in SCREENED:
            loaded = connection.execute(f"select count(*) from raw.{resource}").fetchone()[0]
            quarantined = (
                connection.execute(
                    f"select count(*) from raw.rejected_records where resource = '{resource}' and action = 'skipped'"
                ).fetchone()[0]
                if "rejected_records" in tables
                else 0
            )
            result[resource] = (fetched[resource], loaded, quarantined)
    return result


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_no_record_fault_fails_a_load_and_every_record_is_accounted_for(
    account_records: dict[str, list[dict[str, Any]]], data: st.DataObject, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The real source and dlt (parquet into DuckDB, the pipeline's format) over hostile answers."""
    answers = {
        "/me": account_records["account"][0],
        "/calendars": mutate_list(data, account_records["calendars"], "calendars"),
        "/appointment-types": mutate_list(data, account_records["appointment_types"], "appointment_types"),
        "/clients": mutate_list(data, account_records["clients"][:12], "clients"),
        "/orders": mutate_list(data, account_records["orders"][:12], "orders"),
        "/appointments": mutate_list(data, account_records["appointments"][:12], "appointments"),
        "/appointment-addons": mutate_list(data, account_records["addons"], "addons"),
        "/certificates": mutate_list(data, account_records["certificates"][:12], "certificates"),
    }
    root = tmp_path_factory.mktemp("fuzz")
    counts = SyncCounts()
    window = AppointmentWindow(AS_OF - timedelta(days=800), AS_OF + timedelta(days=800))
    pipeline = dlt.pipeline(
        pipeline_name="fuzz",
        destination=dlt.destinations.duckdb(str(root / "w.duckdb")),
        dataset_name="raw",
        pipelines_dir=str(root / "dlt"),
    )

    pipeline.run(acuity_source(FakeAcuity(answers), "t", window, 1000, counts, "run"), loader_file_format="parquet")

    for resource, (count, loaded, quarantined) in loaded_and_quarantined(root / "w.duckdb", counts.fetched).items():
        assert count == loaded + quarantined, f"{resource}: fetched {count}, loaded {loaded}, quarantined {quarantined}"


@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_hostile_answers_over_http_sync_with_every_record_accounted_for(
    data: st.DataObject, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """End to end over real HTTP: the sandbox's answers mangled, one tenant's extract and load (dbt not needed)."""
    monkeypatch.setenv("RUNTIME__REQUEST_BACKOFF_FACTOR", "0.05")
    mangles = {
        "/clients": ("clients", (), True),
        "/orders": ("orders", (), True),
        "/calendars": ("calendars", (), True),
        "/appointments": ("appointments", (), True),
    }
    seeds = {path: data.draw(st.integers(0, 2**32), label=f"seed {path}") for path in mangles}
    account = build_account("seed", 42, AS_OF)
    root = tmp_path_factory.mktemp("fuzz_http")

    def mangler(path: str) -> Any:
        resource, protect, objects = mangles[path]

        def mangle(rows: list[dict[str, Any]]) -> list[Any]:
            # the drawn seed picks which records and what; the server's threads may not draw from hypothesis itself
            random = Random(seeds[path] + len(rows))
            return [_hostile(random, row, resource, protect) for row in rows] + ([None, "text", 5] if objects else [])

        return mangle

    with SandboxServer({USER_ID: (API_KEY, account)}, rate_limit=False) as server:
        for path in mangles:
            server.inject(Fault(status=200, times=10**6, mangle=mangler(path), path=path))
        tenant = Tenant("fuzz", USER_ID, API_KEY, server.base_url)
        settings_ = SyncSettings(as_of=_midnight(AS_OF), since=AS_OF - timedelta(days=730), page_size=300)
        warehouse = root / "w.duckdb"
        result = sync_tenant(tenant, settings_, dlt.destinations.duckdb(str(warehouse)), root / "dlt")

    assert result.status == "success", result.error
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        for resource in ("clients", "orders", "calendars", "appointments"):
            loaded = connection.execute(f"select count(*) from raw_acuity.{resource}").fetchone()[0]
            quarantined = connection.execute(
                "select count(*) from raw_acuity.rejected_records where resource = ? and action = 'skipped'",
                [resource],
            ).fetchone()[0]
            assert result.fetched[resource] == loaded + quarantined, resource
            if mangles[f"/{resource}"][2]:
                assert quarantined >= 3, "the null, text and number elements each answer carried"


_HOSTILE_VALUES = [None, True, 0, -1, 2**63, 2**70, 1.5, math.inf, -math.inf, math.nan, *HOSTILE_TEXT, [], {"a": [1]}]


def _hostile(random: Any, row: dict[str, Any], resource: str, protect: tuple[str, ...]) -> dict[str, Any]:
    if random.random() < 0.7:
        return row
    result = dict(row)
    for _ in range(random.randint(1, 3)):
        key = random.choice([k for k in sorted({*FIELDS[resource], *row, "zzextra"}) if k not in protect])
        result[key] = random.choice(_HOSTILE_VALUES)
    return result


def _midnight(day: date) -> Any:
    from datetime import UTC, datetime

    return datetime(day.year, day.month, day.day, tzinfo=UTC)


# ---- the whole run: any key dropped, nulled or retyped ----------------------------------------------------------
_OTHER_TYPES: dict[type, list[Any]] = {
    str: [7, True, ["x"], {"x": 1}],
    int: ["7", 7.5, True, [7]],
    float: ["1.5", 1, [1.5]],
    bool: ["true", 1, "maybe", [True]],
    list: [{"0": 1}, "[]", 0],
    dict: [[], "{}", 1],
    type(None): ["", 0, False, []],
}


def _drop_null_or_retype(random: Random, row: Any) -> Any:
    """One key of ``row`` dropped, nulled, or given another JSON type (for about one record in five)."""
    if not isinstance(row, dict) or not row or random.random() >= 0.2:
        return row
    changed = dict(row)
    key = random.choice(sorted(changed))
    operation = random.choice(("drop", "null", "retype"))
    if operation == "drop":
        del changed[key]
    elif operation == "null":
        changed[key] = None
    else:
        changed[key] = random.choice(_OTHER_TYPES[type(changed[key])])
    return changed


@settings(max_examples=2, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32))
def test_any_key_dropped_nulled_or_retyped_publishes_with_every_record_accounted_for(
    seed: int, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Records as the sandbox sends them (with the shapes real answers take), about one in five with one key dropped,
    nulled or of another JSON type, in every list endpoint: the whole run (sync, dbt build and its tests) publishes,
    every record served is in a mart or quarantined in rejected_records, and the run's counts conserve."""
    served: dict[str, list[Any]] = {}

    def mangler(path: str) -> Any:
        def mangle(rows: list[Any]) -> list[Any]:
            answer = [_drop_null_or_retype(Random(f"{seed}:{path}:{n}"), row) for n, row in enumerate(rows)]
            served.setdefault(path, []).extend(answer)
            return answer

        return mangle

    with sandbox_env(tmp_path_factory.mktemp("any_key"), monkeypatch) as env:
        env.monkeypatch.setenv("ACUITY_PAGE_SIZE", "5000")  # one answer: a changed datetime cannot move paging
        for path in ("/appointments", "/orders", "/clients", "/calendars", "/appointment-types", *NEW_LISTS):
            env.server.inject(Fault(status=200, times=10**6, mangle=mangler(path), path=path))

        report = env.sync()

        assert report.failures == [] and report.published is not None
        quarantined = env.query("select resource, record_id from raw_acuity.rejected_records where action = 'skipped'")
        marts = (("appointments", "appointment_id"), ("orders", "order_id"), ("certificates", "certificate_id"))
        for resource, key in marts:
            in_mart = {str(row[0]) for row in env.query(f"select {key} from marts.{resource}")}
            ids = {str(as_int(row.get("id"))) for row in served[f"/{resource}"] if isinstance(row, dict)}
            set_aside = {record_id for where, record_id in quarantined if where == resource}
            assert ids - {"None"} - in_mart - set_aside == set(), f"{resource} served but in no mart"
        resources = ("appointments", "orders", "clients", "calendars", "appointment_types", "addons", "certificates")
        fetched = env.query(f"select {', '.join('fetched_' + r for r in resources)} from raw_acuity.sync_runs")[0]
        for resource, count in zip(resources, fetched, strict=True):
            loaded = env.scalar(f"select count(*) from raw_acuity.{resource} where _dlt_valid_to is null")
            set_aside = sum(1 for where, _ in quarantined if where == resource)
            assert count == loaded + set_aside, f"{resource}: fetched {count}, loaded {loaded}, quarantined {set_aside}"
