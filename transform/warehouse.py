"""Which warehouse a run writes to: the local DuckDB file (default) or a PostgreSQL server.

One setting picks it (``ACUITY_TARGET=postgres`` with ``ACUITY_POSTGRES_URL``, or ``make pipeline TARGET=postgres``);
the same value drives dlt's destination and dbt's profile target, so raw data and models always land together.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import sys
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
                # the file itself, not a symlink to it: DuckDB names the catalog after the file it opens, dbt after
                # the path it is given, and a link named otherwise made every model fail (`Catalog … does not exist`)
                "ACUITY_WAREHOUSE": os.path.realpath(self.path),
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
        """Fail in one line, with the fix, on a warehouse that cannot be opened (call it holding the run lock).

        Nothing here advises deleting anything: a directory, a file that is not DuckDB and a lock held by another
        program are each named as what they are; only a DuckDB file that DuckDB itself cannot read is "damaged", and
        even then it is moved aside, not deleted, so its history can still be restored.
        """
        if self.target != "duckdb" or not self.path.exists():
            return
        if self.path.is_dir():
            raise PipelineError(
                f"the warehouse {self.path} is a directory, not a DuckDB file: set ACUITY_WAREHOUSE to a file in it,"
                f" e.g. ACUITY_WAREHOUSE={self.path / 'acuity.duckdb'}"
            )
        with open(self.path, "rb") as file:
            header = file.read(16)
        if header and header[8:12] != b"DUCK":  # DuckDB's magic bytes; an empty file is DuckDB's to initialise
            raise PipelineError(
                f"{self.path} is not a DuckDB database (ACUITY_WAREHOUSE points at another kind of file): point"
                " ACUITY_WAREHOUSE at the warehouse file, or at a new path to start a warehouse there"
            )
        import duckdb

        try:
            duckdb.connect(str(self.path)).close()
        except duckdb.Error as exc:
            if (failure := disk_failure(exc, "opening the warehouse", self.path.parent)) is not None:
                raise failure from None  # not damaged: deleting it would throw its history away
            if (holder := lock_holder(str(exc))) is not None:
                raise PipelineError(
                    f"the warehouse {self.path} is open in another program ({holder}): wait for it to finish, or"
                    " close it (analysts read analyst.duckdb, never this file), then run again"
                ) from None
            cause = " ".join(str(exc).split())[:200]
            raise PipelineError(
                f"the warehouse {self.path} cannot be opened ({cause}); if it is damaged, restore it from a backup,"
                f" or move it and its {self.state_dir.name} folder aside: the next run then re-syncs everything"
                " from Acuity"
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


_LOCK_PID = re.compile(r"Conflicting lock is held in (?P<program>.+?) \(PID (?P<pid>\d+)\)")


def lock_holder(message: str) -> str | None:
    """Who holds DuckDB's lock, from its message (``Conflicting lock is held in <program> (PID n)``): the pid and,
    where /proc tells, the command line, so the operator can tell a notebook from a stuck run."""
    found = _LOCK_PID.search(message)
    if found is None:
        return None
    pid = found["pid"]
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        parts = [" ".join(part.decode(errors="replace").split()) for part in argv if part]
        command = " ".join(part if len(part) <= 40 else part[:39] + "…" for part in parts)[:240]
    except OSError:
        command = ""
    return f"PID {pid}: {command or found['program']}"


def warn_about_secrets(log: Any = None) -> None:
    """One warning line when ``.dlt/secrets.toml`` (API keys) can be read by the group or by others."""
    secrets_file = paths.PROJECT_DIR / ".dlt" / "secrets.toml"
    try:
        mode = secrets_file.stat().st_mode
    except OSError:
        return
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        line = (
            f"warning: {secrets_file} is readable by {'group and others' if mode & stat.S_IRWXO else 'its group'}"
            f" (mode {stat.S_IMODE(mode):o}) and holds API keys: chmod 600 {secrets_file}"
        )
        (log or (lambda text: print(text, file=sys.stderr)))(line)


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
    path = paths.warehouse_path(demo)
    if path.name == paths.analyst_path(path).name:
        raise PipelineError(
            f"ACUITY_WAREHOUSE={path} is named like the analysts' copy, which every run publishes beside the"
            f" pipeline's own file: name it otherwise, e.g. ACUITY_WAREHOUSE={path.with_name('acuity.duckdb')}"
        )
    return Warehouse(target, path, demo=demo)
