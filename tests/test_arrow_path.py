"""A warehouse whose history was loaded as dicts (every release before the Arrow path) sees no change when the same
records arrive as Arrow tables, and the other way round: no re-versioned history, the same values in every column."""

from __future__ import annotations

import copy
from datetime import date
from pathlib import Path
from typing import Any

import dlt
import duckdb
import pytest

from extract.arrow import fast
from extract.repair import coerce_types
from extract.source import APPOINTMENT_COLUMNS
from sandbox import build_account
from sandbox.account import AppointmentQuery

pytestmark = pytest.mark.sync

SCD2 = {"disposition": "merge", "strategy": "scd2"}


def _rows() -> list[dict[str, Any]]:
    """The seed's appointments as the pipeline hands them to dlt: in Acuity's documented types (extract.repair)."""
    served = build_account("seed", 42, date(2026, 11, 24)).appointments(AppointmentQuery(max=100000, status="all"))
    rows = [dict(coerce_types("appointments", row)) for row in served]
    for row in rows:
        row["tenant_id"] = "t1"
    return rows


def _load(pipeline: dlt.Pipeline, items: Any) -> None:
    @dlt.resource(name="appointments", write_disposition=SCD2, columns=APPOINTMENT_COLUMNS)
    def appointments() -> Any:
        yield items

    pipeline.run(appointments(), loader_file_format="parquet")


def _versions(path: Path) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as connection:
        columns = [
            name
            for (name,) in connection.execute(
                "select column_name from information_schema.columns where table_schema = 'raw'"
                " and table_name = 'appointments' and column_name not in ('_dlt_load_id', '_dlt_valid_from')"
                " order by column_name"
            ).fetchall()
        ]
        return connection.execute(f"select {', '.join(columns)} from raw.appointments order by id").fetchall()


@pytest.mark.parametrize("first", ["dicts", "arrow"])
def test_either_path_after_the_other_changes_nothing(tmp_path: Path, first: str) -> None:
    rows = _rows()
    warehouse = tmp_path / "w.duckdb"
    destination = dlt.destinations.duckdb(str(warehouse))
    pipeline = dlt.pipeline("arrow_path", destination=destination, dataset_name="raw", pipelines_dir=str(tmp_path))
    as_arrow = fast(copy.deepcopy(rows), APPOINTMENT_COLUMNS)
    assert not isinstance(as_arrow, list), "the seed's appointments must take the fast path"
    loads = [copy.deepcopy(rows), as_arrow] if first == "dicts" else [as_arrow, copy.deepcopy(rows)]
    _load(pipeline, loads[0])
    once = _versions(warehouse)
    assert len(once) == len(rows)
    _load(pipeline, loads[1])
    assert _versions(warehouse) == once  # same hashes, nothing retired, nothing added, every value the same
