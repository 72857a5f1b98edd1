"""One writer, many readers: the pipeline works on a private DuckDB file and publishes a read-only copy.

DuckDB lets one process write a file only while no other process has it open, even read-only. So analysts never
open the pipeline's file: they read ``warehouse/analyst.duckdb``, which the pipeline replaces atomically (a copy, then
``os.replace``) only after a ``dbt build`` whose every test passed. An open analyst session keeps reading the copy it
opened; the next session sees the new one; a failed or killed run publishes nothing.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb

from transform.errors import PipelineError


def analyst_path(private: Path) -> Path:
    return private.with_name("analyst.duckdb")


def publish(private: Path) -> Path:
    """Copy the checkpointed private warehouse next to it and swap it in for the analysts' copy."""
    with duckdb.connect(str(private)) as connection:
        connection.execute("checkpoint")  # fold the WAL into the file so the copy is complete
    published = analyst_path(private)
    staging = published.with_name(f".{published.name}.{os.getpid()}.tmp")
    try:
        shutil.copyfile(private, staging)
        os.replace(staging, published)
    finally:
        staging.unlink(missing_ok=True)
    return published


@contextlib.contextmanager
def exclusive_run(private: Path) -> Iterator[None]:
    """Refuse a second pipeline on the same warehouse instead of letting it fail halfway on DuckDB's lock.

    An flock dies with its process, so a crashed run never leaves a stale lock behind.
    """
    private.parent.mkdir(parents=True, exist_ok=True)
    lock_path = private.with_name(f".{private.name}.lock")
    with open(lock_path, "a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
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
