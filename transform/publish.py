"""One writer, many readers: the pipeline works on a private DuckDB file and publishes a read-only copy.

DuckDB lets one process write a file only while no other process has it open, even read-only. So analysts never
open the pipeline's file: they read ``analyst.duckdb`` beside it, which the pipeline replaces atomically (a copy, then
``os.replace``) only after a ``dbt build`` whose every test passed. An open analyst session keeps reading the copy it
opened; the next session sees the new one; a failed or killed run publishes nothing.

What an analyst's session leaves behind never reaches a new copy: DuckDB replays ``<file>.wal`` onto whatever file
carries that name, so a write-ahead log left by a read-write session that died would rewrite every fresh copy. The
copy is published without one, read-only on disk, and the changes of a read-write session end at the next publish.

The copy is readable by the owner and the group ``ACUITY_FILE_GROUP`` names, never by others (``transform.access``),
from its first byte; with ``ACUITY_PSEUDONYMISED_COPY=1`` it holds the marts only, without names, emails or phones
(``transform.pseudonymise``).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb

from extract.config import BY_ENV, parse_flag
from transform import access as file_access
from transform import erasures, pseudonymise, rewrite
from transform.errors import PipelineError
from transform.paths import analyst_path, state_dir


def pseudonymised() -> bool:
    """``ACUITY_PSEUDONYMISED_COPY``: whether analysts get the copy without names, emails and phones."""
    return parse_flag(BY_ENV["ACUITY_PSEUDONYMISED_COPY"])


def publish(private: Path) -> Path:
    """Copy the checkpointed private warehouse next to it (or its pseudonymised marts) and swap it in for the
    analysts' copy."""
    access = file_access.current()
    with duckdb.connect(str(private)) as connection:
        connection.execute("checkpoint")  # fold the WAL into the file so the copy is complete
    published = analyst_path(private)
    staging = published.with_name(f".{published.name}.{os.getpid()}.tmp")
    try:
        with file_access.restricted(access):
            if pseudonymised():
                pseudonymise.write(private, staging, erasures.salt(private, access) or b"")
            else:
                shutil.copyfile(private, staging)
        access.give(staging, access.read_only_mode)
        _wal(published).unlink(missing_ok=True)  # a dead read-write session's log must not replay onto the copy
        os.replace(staging, published)
    finally:
        staging.unlink(missing_ok=True)
        _wal(staging).unlink(missing_ok=True)
    return published


def _wal(database: Path) -> Path:
    return database.with_name(f"{database.name}.wal")


def remove_leftovers(private: Path) -> list[Path]:
    """Temp copies of publishes and rewrites a kill interrupted (full-size files): only ever ours, removed under the
    run lock."""
    published = analyst_path(private)
    leftovers = sorted(published.parent.glob(f".{published.name}.*.tmp*")) + rewrite.leftovers(private)
    for path in leftovers:
        path.unlink(missing_ok=True)
    return leftovers


@contextlib.contextmanager
def exclusive_run(private: Path, wait: bool = False) -> Iterator[None]:
    """Refuse a second pipeline on the same warehouse instead of letting it fail halfway on DuckDB's lock.

    An flock dies with its process, so a crashed run never leaves a stale lock behind. The lock lives in the
    warehouse's own state folder: pipelines on two warehouses never wait for each other. ``wait``: wait for the
    holder to finish instead (an orchestrator's step, whose scheduler already keeps such waits short).
    """
    folder = state_dir(private)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "run.lock", "a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            holder = lock.read().strip() or "unknown"
            raise PipelineError(
                f"another pipeline run (pid {holder}) is using {private}: wait for it to finish, then run again"
            ) from None
        lock.seek(0)
        lock.truncate()
        lock.write(str(os.getpid()))
        lock.flush()
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
