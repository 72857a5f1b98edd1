"""Screened records to Arrow tables: dlt's fast path from the extract to the load (issue 16).

Handed a list of dicts, dlt writes them out, then normalizes them row by row in Python (names, types, variant
columns, the scd2 row hash): for a 100k-appointment account that was the largest single cost of a sync. Handed an
Arrow table, dlt writes parquet once and loads it (dlt docs, "arrow tables and pandas frames": its fastest path).

The two paths must load the same rows, so a batch takes the fast path only when Arrow can hold it exactly as dlt
would have typed it, and otherwise stays a list of dicts (slower, never different):
- every column's type is the one dlt's schema already has for it, or, for a column dlt has not seen yet, the one dlt
  would infer from the values (str: text, int: bigint, bool: bool, float: double, dict/list: json). A value of
  another type (a ``canceled: "maybe"``, which dlt puts in a variant column) keeps its batch on the dict path; so
  do a type dlt would coerce otherwise than we can and a column dlt declares of a type we do not map;
- JSON values are serialised as dlt serialises them, and only into a column the schema declares ``json`` (an
  Arrow string column dlt has not seen would be typed text);
- the scd2 row hash (``_dlt_id``) is dlt's own ``get_row_hash`` of the same dict (tested equal), so a warehouse
  loaded on either path sees no change when the other loads the same record (history is not re-versioned by an
  upgrade);
- a column that is null in the whole batch is left out, as the dict path leaves out a null key.
The ``_dlt_load_id`` column is added by dlt (``normalize.parquet_normalizer.add_dlt_load_id`` in .dlt/config.toml).
dlt warns on every such table that its JSON columns arrive as strings; that is the design here, so the warning is
filtered out of dlt's log (``quiet_json_hint_warning``) rather than printed on every daily run.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from functools import cache
from itertools import repeat
from typing import Any

import pyarrow as pa
from dlt.common import json
from dlt.common.normalizers.json.helpers import DLT_ID_LENGTH_BYTES
from dlt.common.utils import digest128b

from extract.validate import column_name

ROW_HASH = "_dlt_id"
_ARROW = {"text": pa.string(), "bigint": pa.int64(), "bool": pa.bool_(), "double": pa.float64(), "json": pa.string()}
_INFERRED: dict[type, str] = {str: "text", int: "bigint", bool: "bool", float: "double", dict: "json", list: "json"}
# the Python types each column type takes as it is (dlt would coerce an int into a text column as its str)
_TAKES: dict[str, frozenset[type]] = {
    "text": frozenset({str}),
    "bigint": frozenset({int}),
    "bool": frozenset({bool}),
    "double": frozenset({float}),
    "json": frozenset({dict, list}),
}
_column_name = cache(column_name)  # a batch's keys are few and repeat in every batch


def arrow_table(rows: list[dict[str, Any]], known: Mapping[str, Mapping[str, Any]]) -> pa.Table | None:
    """``rows`` as an Arrow table typed as dlt would type them, or None when only the dict path loads them exactly.

    ``known``: the table's columns in dlt's schema so far (normalised name -> column schema). ``rows`` must be
    screened (``extract.validate``) and stamped: the row hash is computed over each dict as it is.
    """
    if not rows:
        return None
    keys: dict[str, None] = {}
    for row in rows:
        keys.update(dict.fromkeys(row))
    if any(not key or key.isspace() for key in keys):
        return None  # a blank key: dlt's relational normaliser names it `_empty`; its naming alone raises on it
    names = [_column_name(key) for key in keys]
    if len(set(names)) != len(names) or any(text.startswith("_dlt") for text in (*keys, *names)):
        return None  # keys that collide as columns, or take dlt's own names: dlt's own rules decide
    arrays, fields = [], []
    for key, name in zip(keys, names, strict=True):
        values = list(map(dict.get, rows, repeat(key)))  # C-level loops: this runs for every column of every row
        kinds = set(map(type, values))
        kinds.discard(type(None))
        if not kinds:
            continue  # null in every row: no column, as on the dict path
        kind = known.get(name, {}).get("data_type")
        if kind is None and len(kinds) == 1:
            kind = _INFERRED.get(next(iter(kinds)))
            if kind == "json":
                return None  # an Arrow string would be typed text: only a declared column holds JSON here
        if kind not in _TAKES:
            return None
        if not kinds <= _TAKES[kind]:
            if kind == "text" and kinds <= {str, int}:
                values = [str(value) if type(value) is int else value for value in values]
            else:
                return None
        if kind == "json":
            values = [None if value is None else json.dumps(value) for value in values]
        try:
            arrays.append(pa.array(values, type=_ARROW[kind]))
        except (pa.ArrowException, OverflowError, ValueError, TypeError):
            return None  # whatever Arrow refuses, the dict path still loads (or dlt flags) as before
        fields.append(pa.field(key, _ARROW[kind]))
    hashes = [row_hash(row) for row in rows]
    arrays.append(pa.array(hashes, type=pa.string()))
    fields.append(pa.field(ROW_HASH, pa.string(), nullable=False))
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def row_hash(row: Mapping[str, Any]) -> str:
    """dlt's scd2 row hash (``get_row_hash``) of a screened, stamped row, without its per-row filter of ``_dlt``
    keys (a screened row has none): the ``_dlt_id`` the row loads with on either path."""
    return digest128b(json.dumpb(row, sort_keys=True), DLT_ID_LENGTH_BYTES)


def fast(rows: list[dict[str, Any]], known: Mapping[str, Mapping[str, Any]]) -> pa.Table | list[dict[str, Any]]:
    """What to hand dlt for ``rows``: the Arrow table when it holds them exactly, else the dicts themselves."""
    table = arrow_table(rows, known)
    return rows if table is None else table


class _JsonHintWarning(logging.Filter):
    """Drops dlt's "when merging arrow schema with dlt schema, several column hints were different" warning.

    ``arrow_table`` types every column as the schema does, except JSON, which Arrow carries as a string; dlt keeps
    the schema's ``json`` (its INFO lines name each column), so the warning says nothing an operator should act on.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return "when merging arrow schema with dlt schema" not in record.getMessage()


_FILTER = _JsonHintWarning()


def quiet_json_hint_warning() -> None:
    """Install the filter on dlt's logger (idempotent: ``addFilter`` adds a filter once)."""
    logging.getLogger("dlt").addFilter(_FILTER)
