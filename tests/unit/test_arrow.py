"""The Arrow fast path holds a batch exactly as dlt's dict path would, or declines it (the dicts load as before)."""

from __future__ import annotations

import copy
import json
from datetime import date

import pyarrow as pa
import pytest
from dlt.common.normalizers.json.helpers import get_row_hash

from extract.arrow import ROW_HASH, arrow_table, fast
from extract.repair import coerce_types
from extract.source import APPOINTMENT_COLUMNS
from sandbox import build_account
from sandbox.account import AppointmentQuery

pytestmark = pytest.mark.unit


def _appointments(n: int = 200) -> list[dict]:
    """Screened as the pipeline hands them to the Arrow path: in Acuity's documented types (extract.repair)."""
    account = build_account("seed", 42, date(2026, 11, 24))
    rows = [coerce_types("appointments", row) for row in account.appointments(AppointmentQuery(max=n, status="all"))]
    for row in rows:
        row["tenant_id"] = "t1"
    return rows


def test_a_clean_batch_becomes_an_arrow_table_typed_as_the_schema_says() -> None:
    rows = _appointments()
    table = arrow_table(rows, APPOINTMENT_COLUMNS)
    assert table is not None and table.num_rows == len(rows)
    types = dict(zip(table.schema.names, table.schema.types, strict=True))
    assert types["id"] == pa.int64() and types["canceled"] == pa.bool_() and types["price"] == pa.string()
    assert types["forms"] == pa.string()  # JSON as dlt serialises it, into the column declared json
    row = rows[0]
    loaded = table.slice(0, 1).to_pylist()[0]
    assert loaded["id"] == row["id"] and loaded["firstName"] == row["firstName"]
    assert json.loads(loaded["forms"]) == row["forms"]


def test_the_row_hash_is_dlts_own_so_history_loaded_by_either_path_matches() -> None:
    rows = _appointments(50)
    before = copy.deepcopy(rows)
    table = arrow_table(rows, APPOINTMENT_COLUMNS)
    assert table is not None
    assert table.column(ROW_HASH).to_pylist() == [get_row_hash(row) for row in before]
    assert rows == before  # the dicts are not changed (the quarantine and counts still see what was sent)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("canceled", "maybe"),  # dlt puts it in a variant column that staging reads
        ("appointmentTypeID", "abc"),
        ("price", 12),  # an int into a text column is fine (see below); a float is not
        ("forms", "not a list"),
    ],
)
def test_a_value_of_another_type_keeps_the_batch_on_the_dict_path(field: str, value: object) -> None:
    rows = _appointments(20)
    rows[7][field] = 1.5 if value == 12 else value
    assert arrow_table(rows, APPOINTMENT_COLUMNS) is None
    assert fast(rows, APPOINTMENT_COLUMNS) is rows


def test_an_int_in_a_text_column_is_its_text_as_dlt_coerces_it() -> None:
    rows = _appointments(10)
    rows[3]["classID"] = 4411  # declared text: Acuity's own examples send a string
    table = arrow_table(rows, APPOINTMENT_COLUMNS)
    assert table is not None
    assert table.column("classID").to_pylist()[3] == "4411"


def test_columns_dlt_has_not_seen_are_inferred_as_dlt_infers_them_or_declined() -> None:
    rows = _appointments(10)
    for row in rows:
        row["newFlag"], row["newCount"], row["newText"] = True, 3, "x"
    table = arrow_table(rows, APPOINTMENT_COLUMNS)
    assert table is not None
    assert table.schema.field("newFlag").type == pa.bool_() and table.schema.field("newCount").type == pa.int64()
    rows[0]["newCount"] = "three"  # mixed: dlt would make a variant column
    assert arrow_table(rows, APPOINTMENT_COLUMNS) is None
    rows[0]["newCount"] = 3
    rows[0]["newObject"] = {"a": 1}  # JSON in a column dlt has not seen: an Arrow string would be typed text
    assert arrow_table(rows, APPOINTMENT_COLUMNS) is None


def test_a_key_null_in_every_row_is_no_column_as_on_the_dict_path() -> None:
    rows = _appointments(10)
    for row in rows:
        row["alwaysNull"] = None
    table = arrow_table(rows, APPOINTMENT_COLUMNS)
    assert table is not None and "alwaysNull" not in table.schema.names


def test_keys_that_collide_as_columns_or_claim_dlts_own_names_are_declined() -> None:
    rows = _appointments(5)
    rows[2]["first_name"] = "Other"  # normalises like firstName
    assert arrow_table(rows, APPOINTMENT_COLUMNS) is None
    rows = _appointments(5)
    rows[1]["_dlt_id"] = "forged"
    assert arrow_table(rows, APPOINTMENT_COLUMNS) is None
    for blank in ("", " "):  # dlt's relational normaliser loads it as `_empty`; its naming alone raises on it
        rows = _appointments(5)
        rows[3][blank] = "x"
        assert arrow_table(rows, APPOINTMENT_COLUMNS) is None


def test_the_stored_schema_wins_over_inference() -> None:
    rows = _appointments(10)
    for row in rows:
        row["duration"] = 60  # sent as an int here; the schema has it as text
    table = arrow_table(rows, {**APPOINTMENT_COLUMNS, "duration": {"data_type": "text"}})
    assert table is not None and table.column("duration").to_pylist()[0] == "60"
    assert arrow_table(rows, {**APPOINTMENT_COLUMNS, "duration": {"data_type": "timestamp"}}) is None


def test_an_empty_batch_stays_a_list() -> None:
    assert fast([], APPOINTMENT_COLUMNS) == []


def test_a_value_arrow_refuses_keeps_the_batch_on_the_dict_path() -> None:
    rows = _appointments(5)
    rows[2]["bigNumber"] = 2**70  # the record checks quarantine this; the fast path must not crash if one gets by
    assert arrow_table(rows, APPOINTMENT_COLUMNS) is None


def test_dlts_json_hint_warning_is_not_held_for_the_log_but_other_warnings_are() -> None:
    """The run holds dlt's records during a sync and prints them after it; the pipeline installs the Arrow warning's
    filter later than the hold, and the hold must still honour it (it once printed ~200 such lines on a 1M sync)."""
    import logging

    from extract.arrow import quiet_json_hint_warning
    from transform.run import dlt_log_held

    logger = logging.getLogger("dlt")
    with dlt_log_held() as held:
        quiet_json_hint_warning()  # as make_pipeline does, inside the hold
        logger.warning("In resource: appointments, when merging arrow schema with dlt schema, several column hints")
        logger.warning("a retried job")
    assert [record.getMessage() for record in held] == ["a retried job"]
