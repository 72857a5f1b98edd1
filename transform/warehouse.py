"""Which warehouse a run writes to: the local DuckDB file (default) or a PostgreSQL server.

One setting picks it (``ACUITY_TARGET=postgres`` with ``ACUITY_POSTGRES_URL``, or ``make pipeline TARGET=postgres``);
the same value drives dlt's destination and dbt's profile target, so raw data and models always land together.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from transform import paths
from transform.errors import PipelineError, disk_failure

if TYPE_CHECKING:
    from dlt.common.destination import Destination

TARGETS = ("duckdb", "postgres")
# DuckDB takes up to 80% of RAM by default; a cap makes it spill instead, so a 1M-appointment sync stays under 1 GiB
# (bench/results). Used by dlt's loads and by dbt's profile alike.
DUCKDB_MEMORY_LIMIT = os.environ.get("ACUITY_DUCKDB_MEMORY_LIMIT", "512MB")


@dataclass(frozen=True)
class Warehouse:
    """One warehouse and the local state that belongs to it (dlt's working folder, dbt's target, the run lock).

    ``path`` is the DuckDB file; for PostgreSQL it only names where the local state of that server's database lives.
    """

    target: str
    path: Path
    postgres_url: str | None = None
    demo: bool = False

    @property
    def state_dir(self) -> Path:
        return paths.state_dir(self.path)

    @property
    def pipelines_dir(self) -> Path:
        return paths.pipelines_dir(self.path)

    @property
    def dbt_target_dir(self) -> Path:
        return paths.dbt_target_dir(self.path)

    @property
    def analyst_path(self) -> Path:
        return paths.analyst_path(self.path)

    def destination(self) -> Destination:
        # dlt is imported here, not at the top: the pipeline starts dbt's child before paying for dlt (transform.cli)
        import dlt
        from dlt.destinations.impl.duckdb.configuration import DuckDbCredentials

        if self.target == "postgres":
            return dlt.destinations.postgres(credentials=self.postgres_url)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        credentials = DuckDbCredentials(str(self.path), global_config={"memory_limit": DUCKDB_MEMORY_LIMIT})
        return dlt.destinations.duckdb(credentials=credentials)

    @property
    def loader_file_format(self) -> str | None:
        """Parquet into DuckDB (typed, fast; DuckDB's read_json would re-type strings); elsewhere dlt's default."""
        return "parquet" if self.target == "duckdb" else None

    def dbt_env(self) -> dict[str, str]:
        """Environment for dbt's profile (profiles.yml reads these; nothing secret is written to disk)."""
        if self.target == "duckdb":
            return {
                "ACUITY_DBT_TARGET": "duckdb",
                "ACUITY_WAREHOUSE": str(self.path),
                "ACUITY_DUCKDB_MEMORY_LIMIT": DUCKDB_MEMORY_LIMIT,
            }
        parts = urlsplit(self.postgres_url or "")
        return {
            "ACUITY_DBT_TARGET": "postgres",
            "ACUITY_PG_HOST": parts.hostname or "127.0.0.1",
            "ACUITY_PG_PORT": str(parts.port or 5432),
            "ACUITY_PG_USER": unquote(parts.username or "postgres"),
            "ACUITY_PG_PASSWORD": unquote(parts.password or ""),
            "ACUITY_PG_DATABASE": parts.path.lstrip("/") or "postgres",
            "PGTZ": "UTC",  # timestamptz -> timestamp casts in the models are UTC, as on DuckDB
        }

    def check_folder(self) -> None:
        """Fail in one line, with the fix, when the warehouse's folder cannot be written: before anything starts.

        A file is really created there: ``os.access`` answers for permissions only, and root may write anywhere
        except on a read-only mount.
        """
        folder = self.path.parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryFile(dir=folder):
                pass
        except OSError as exc:
            doing = "checking the warehouse folder"
            raise disk_failure(exc, doing, folder, path=folder) or PipelineError(
                f"cannot write into the warehouse folder {folder} ({exc.strerror}): fix it or set ACUITY_WAREHOUSE"
                " to another folder, and run again"
            ) from None

    def check_file(self) -> None:
        """Fail in one line, with the fix, on a DuckDB file that cannot be opened (call it holding the run lock)."""
        if self.target != "duckdb" or not self.path.exists():
            return
        import duckdb

        try:
            duckdb.connect(str(self.path)).close()
        except duckdb.Error as exc:
            if (failure := disk_failure(exc, "opening the warehouse", self.path.parent)) is not None:
                raise failure from None  # not damaged: deleting it would throw its history away
            cause = " ".join(str(exc).split())[:200]
            raise PipelineError(
                f"the warehouse {self.path} cannot be opened ({cause}); if the file is damaged, delete it and its"
                f" {self.state_dir.name} folder and run again: the next run re-syncs everything from Acuity"
            ) from None

    def connect(self) -> Any:
        """A DB-API connection for reading the marts (read-only on DuckDB, so analysts are never blocked)."""
        if self.target == "postgres":
            import psycopg2

            connection = psycopg2.connect(self.postgres_url, options="-c timezone=UTC")
            connection.set_session(readonly=True, autocommit=True)
            return connection
        import duckdb

        return duckdb.connect(str(self.path), read_only=True)

    def describe(self) -> str:
        if self.target == "postgres":
            parts = urlsplit(self.postgres_url or "")
            return f"postgresql://{parts.hostname}:{parts.port or 5432}{parts.path}"  # never the password
        return str(self.path)


def current(demo: bool = False) -> Warehouse:
    """The warehouse the settings name; ``demo``: the embedded sandbox's own DuckDB file, never a real account's."""
    target = os.environ.get("ACUITY_TARGET", "duckdb").lower()
    if target not in TARGETS:
        raise PipelineError(f"ACUITY_TARGET={target!r}: choose one of {', '.join(TARGETS)}")
    if target == "postgres":
        url = os.environ.get("ACUITY_POSTGRES_URL")
        if not url:
            raise PipelineError(
                "ACUITY_TARGET=postgres needs ACUITY_POSTGRES_URL=postgresql://user:password@host:port/db"
            )
        if demo:
            raise PipelineError(
                "the embedded demo writes its own DuckDB file, not a server warehouse: set ACUITY_USER_ID and"
                " ACUITY_API_KEY (or a tenants file) to sync a real account into PostgreSQL"
            )
        parts = urlsplit(url)
        server = hashlib.sha256(f"{parts.hostname}:{parts.port or 5432}{parts.path}".encode()).hexdigest()[:12]
        return Warehouse(target, paths.warehouse_path().parent / f"postgres-{server}" / "acuity", url)
    return Warehouse(target, paths.warehouse_path(demo), demo=demo)
