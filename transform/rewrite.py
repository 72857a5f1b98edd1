"""Rewrite a DuckDB file so that nothing deleted from it survives in its freed blocks.

DuckDB reuses the blocks a delete or an update frees but never wipes them: the bytes of a forgotten person's rows,
or of versions the retention dropped, stay in the file until they happen to be overwritten. A rewrite copies what
the file holds now into a new file beside it (DuckDB's ``COPY FROM DATABASE``: schemas, tables, views) and swaps it
in with ``os.replace``: a reader, or a stop halfway, sees the old file or the new one, never half of either.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from transform.access import Access


def rewrite(path: Path, access: Access) -> None:
    """Rewrite the DuckDB file at ``path`` (a symlink's target, in place); call it holding the run lock."""
    real = Path(os.path.realpath(path))
    with duckdb.connect(str(real)) as connection:
        connection.execute("checkpoint")  # the WAL folded in: what the copy reads is all there is
    fresh = temp_path(real)
    try:
        with duckdb.connect(str(fresh)) as connection:
            quoted = str(real).replace("'", "''")
            connection.execute(f"attach '{quoted}' as previous (read_only)")
            catalog = connection.execute("select current_database()").fetchone()[0]
            connection.execute(f'copy from database previous to "{catalog}"')
            connection.execute("detach previous")
            connection.execute("checkpoint")
        access.give(fresh)
        os.replace(fresh, real)
    finally:
        fresh.unlink(missing_ok=True)
        fresh.with_name(f"{fresh.name}.wal").unlink(missing_ok=True)


def temp_path(real: Path) -> Path:
    """The new file while it is written: beside the old one (one file system, so the swap is atomic)."""
    return real.with_name(f".{real.name}.{os.getpid()}.rewrite.tmp")


def leftovers(path: Path) -> list[Path]:
    """New files of rewrites a kill interrupted (a full copy of the warehouse each)."""
    real = Path(os.path.realpath(path))
    return sorted(real.parent.glob(f".{real.name}.*.rewrite.tmp*"))
