"""Several Acuity accounts in one warehouse, and the same models on PostgreSQL, over real HTTP and real databases."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import duckdb
import psycopg2
import pytest
from helpers import AS_OF, assert_marts_equal_ground_truth

from extract.config import settings_from_env
from sandbox import SandboxServer, build_account
from transform.run import run

MART_COLUMNS = {
    "contacts": "tenant_id, contact_id, first_name, last_name, email, phone, client_records, merge_rule",
    "future_appointments": "tenant_id, appointment_id, contact_id, match_rule, starts_at_local, starts_at_utc, price",
    "contact_revenue": "tenant_id, contact_id, revenue_orders, order_revenue, first_order_at, appointment_payments",
    "sync_metrics": "tenant_id, fetched, appointments_attempted, appointments_persisted, appointments_skipped_total,"
    " contacts_processed, contacts_with_revenue, total_revenue",
}


def write_tenants(path: Path, base_url: str, tenants: dict[str, str]) -> Path:
    path.write_text(
        "\n".join(
            f'[tenants.{t}]\nlabel = "{t.title()} studio"\nuser_id = "{u}"\nbase_url = "{base_url}"\n'
            for t, u in tenants.items()
        )
    )
    return path


def test_two_tenants_land_isolated_and_a_failing_one_does_not_block_them(workdir: Path, monkeypatch) -> None:
    """North and south are identical accounts (same seed): every email, id and name exists in both, so any
    cross-tenant match or key collision would show. A third account with a wrong key fails alone."""
    north, south = build_account("seed", 42, AS_OF), build_account("seed", 42, AS_OF)
    with SandboxServer({"1": ("key-n", north), "2": ("key-s", south), "3": ("key-b", north)}) as server:
        tenants = write_tenants(workdir / "tenants.toml", server.base_url, {"north": "1", "south": "2", "broken": "3"})
        monkeypatch.setenv("ACUITY_API_KEY_NORTH", "key-n")
        monkeypatch.setenv("ACUITY_API_KEY_SOUTH", "key-s")
        monkeypatch.setenv("ACUITY_API_KEY_BROKEN", "not-the-key")
        south.mutate_all(rng_seed=3)  # after this the two accounts differ
        report = run(settings_from_env(AS_OF.isoformat()), tenants_file=str(tenants))

    assert [line.split(":")[0] for line in report.failures] == ["tenant broken"]
    assert "401" in report.failures[0]
    with duckdb.connect(str(workdir / "acuity.duckdb"), read_only=True) as connection:
        query = lambda sql: connection.execute(sql).fetchall()  # noqa: E731
        assert_marts_equal_ground_truth(query, north, "north")
        assert_marts_equal_ground_truth(query, south, "south")
        assert query("select tenant_id, status from raw_acuity.sync_runs order by 1") == [
            ("broken", "failed"),
            ("north", "success"),
            ("south", "success"),
        ]
        assert query("select count(distinct tenant_id) from marts.sync_metrics") == [(2,)]
        shared = query(
            "select count(*) from marts.contacts n join marts.contacts s on n.email = s.email"
            " where n.tenant_id = 'north' and s.tenant_id = 'south' and n.contact_id <> s.contact_id"
        )
        assert shared[0][0] > 500, "the same email in two accounts is two contacts"


@pytest.mark.postgres
def test_same_models_on_postgres_equal_the_duckdb_build(workdir: Path, monkeypatch, postgres_url: str) -> None:
    """Full pipeline + every dbt test on a real PostgreSQL, then the marts compared row for row with DuckDB."""
    account = build_account("seed", 42, AS_OF)
    with SandboxServer({"1": ("key", account)}) as server:
        for name, value in {"ACUITY_BASE_URL": server.base_url, "ACUITY_USER_ID": "1", "ACUITY_API_KEY": "key"}.items():
            monkeypatch.setenv(name, value)
        duck = run(settings_from_env(AS_OF.isoformat()))
        monkeypatch.setenv("ACUITY_TARGET", "postgres")
        monkeypatch.setenv("ACUITY_POSTGRES_URL", postgres_url)
        monkeypatch.setenv("ACUITY_DLT_DIR", str(workdir / "dlt-postgres"))
        pg = run(settings_from_env(AS_OF.isoformat()))

    assert duck.failures == [] and pg.failures == []
    assert pg.dbt is not None and duck.dbt is not None
    assert pg.dbt.counts == duck.dbt.counts and pg.dbt.counts["pass"] > 0, "every model and data test ran on both"
    with psycopg2.connect(postgres_url, options="-c timezone=UTC") as pg_connection:

        def pg_query(sql: str) -> list[tuple]:
            with pg_connection.cursor() as cursor:
                cursor.execute(sql)
                return cursor.fetchall()

        assert_marts_equal_ground_truth(pg_query, account)
        with duckdb.connect(str(workdir / "acuity.duckdb"), read_only=True) as duck_connection:
            for mart, columns in MART_COLUMNS.items():
                sql = f"select {columns} from marts.{mart}"
                duck_rows = sorted(map(normalise, duck_connection.execute(sql).fetchall()))
                pg_rows = sorted(map(normalise, pg_query(sql)))
                assert pg_rows == duck_rows, mart


def normalise(row: tuple) -> tuple:
    """Drivers differ in Python types for equal values (DuckDB Decimal vs int for sums); compare values."""
    return tuple(
        Decimal(str(v)) if isinstance(v, (int, float, Decimal)) and not isinstance(v, bool) else v for v in row
    )
