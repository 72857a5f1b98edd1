"""The analysts' copy as outside tools open it: the DuckDB CLI on analyst.duckdb, a Python session that attaches it
under another name, and `make analysis` — every table and view readable, every analysis runs (issue 14)."""

from __future__ import annotations

import csv
import io
import subprocess

import duckdb
import pytest
from helpers import Env

from transform.paths import PROJECT_DIR, analyst_path
from transform.tools import available_analyses, duckdb_cli

RELATIONS = """
    select schema_name, table_name from duckdb_tables() where not internal and database_name = current_database()
    union all
    select schema_name, view_name from duckdb_views() where not internal and database_name = current_database()
    order by 1, 2
"""


@pytest.fixture(scope="module")
def relations(synced_env: Env) -> list[tuple[str, str]]:
    with duckdb.connect(str(analyst_path(synced_env.warehouse)), read_only=True) as connection:
        found = connection.execute(RELATIONS).fetchall()
    assert {"staging", "intermediate", "marts", "reference", "raw_acuity"} <= {schema for schema, _ in found}
    return found


def test_the_duckdb_cli_reads_every_table_and_view(synced_env: Env, relations: list[tuple[str, str]]) -> None:
    script = "\n".join(f'select \'{s}.{n}\' as relation, count(*) as n from "{s}"."{n}";' for s, n in relations)
    copy = analyst_path(synced_env.warehouse)

    done = subprocess.run(
        [duckdb_cli(), "-readonly", "-csv", "-noheader", str(copy)], input=script, capture_output=True, text=True
    )

    assert done.returncode == 0 and "Error" not in done.stderr, done.stderr
    counted = dict(csv.reader(io.StringIO(done.stdout)))
    assert set(counted) == {f"{s}.{n}" for s, n in relations}
    assert int(counted["marts.appointments"]) > 0 and int(counted["staging.stg_acuity__appointments"]) > 0


def test_an_attached_copy_under_another_name_reads_every_table_and_view(
    synced_env: Env, relations: list[tuple[str, str]]
) -> None:
    with duckdb.connect() as session:
        session.execute(f"attach '{analyst_path(synced_env.warehouse)}' as other (read_only)")
        counts = {
            f"{s}.{n}": session.execute(f'select count(*) from other."{s}"."{n}"').fetchone()[0] for s, n in relations
        }
        session.execute("use other")
        views = session.execute("select count(*) from staging.stg_acuity__clients").fetchone()[0]
    assert counts["staging.stg_acuity__clients"] == views == synced_env.account.ground_truth()["clients"]


def test_every_analysis_runs_through_make_analysis(synced_env: Env) -> None:
    """One documented command (`make analysis NAME=…`) compiles and runs each ready analysis on the copy."""
    done = subprocess.run(
        ["make", "--no-print-directory", "analysis", "NAME=all", "ARGS=-csv"],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=600,
    )

    assert done.returncode == 0, done.stderr
    assert "Error" not in done.stderr, done.stderr
    sections = done.stdout.split("-- ")[1:]
    assert [section.splitlines()[0] for section in sections] == available_analyses()
    for section in sections:
        header, *rows = section.splitlines()[1:]
        assert header.startswith("tenant_id,") and rows, section[:200]


def test_an_unknown_analysis_is_a_one_line_error(synced_env: Env) -> None:
    done = subprocess.run(
        ["make", "--no-print-directory", "analysis", "NAME=nope"], cwd=PROJECT_DIR, capture_output=True, text=True
    )
    assert done.returncode != 0
    assert done.stderr.startswith("error: no analysis nope: choose from addon_revenue, calendar_utilisation,")
