"""Errors the runner raises for its own problems (locks, targets, missing files, the disk), apart from Acuity's.

``str()`` of each is the one line the command line prints; none carries a secret.
"""

from __future__ import annotations

import errno
import os
import re
from collections.abc import Iterator
from pathlib import Path

from extract import AcuityError


class PipelineError(RuntimeError):
    """A failure of the run itself that the user can act on: another run holds the lock, a missing warehouse, …"""


# What the disk refused, and what the user does about it. ``{mount}`` is the file system the path lies on.
_DISK_FAILURES = {
    errno.ENOSPC: ("the disk is full (ENOSPC) writing {path}", "free space on {mount} and run again"),
    errno.EDQUOT: (
        "the disk quota is used up (EDQUOT) writing {path}",
        "free space on {mount} or raise the quota, and run again",
    ),
    errno.EROFS: (
        "the file system is read-only (EROFS) writing {path}",
        "remount {mount} read-write or set ACUITY_WAREHOUSE to a folder on a writable disk, and run again",
    ),
    errno.EACCES: (
        "permission denied (EACCES) on {path}",
        "let this user write to {folder} or set ACUITY_WAREHOUSE to a folder it can write, and run again",
    ),
}
# The same causes as text: DuckDB (``IO Error: Could not write file "…": No space left on device``), a dlt load job's
# message and dbt's node messages carry only the strerror, not the OSError
_DISK_TEXTS = {os.strerror(code): code for code in _DISK_FAILURES}
# the file a message names next to the cause: DuckDB's `"<path>": <cause>`, Python's `<cause>: '<path>'` (a copy's
# `<cause>: '<source>' -> '<destination>'` failed writing the destination)
_PATH_BEFORE = re.compile(r"""["'](/[^"'\n]+)["']:\s*$""")
_PATH_AFTER = re.compile(r"""^:\s*["'](/[^"'\n]+)["'](?:\s*->\s*["'](/[^"'\n]+)["'])?""")


def disk_failure(
    cause: BaseException | str | None, doing: str, folder: Path, path: Path | None = None
) -> PipelineError | None:
    """The one line for a run the disk stopped — full, read-only or not ours to write — or None for any other cause.

    ``cause`` is an exception (searched along its whole ``__cause__``/``__context__`` chain: dlt and DuckDB wrap the
    OSError, and a full disk can hide behind the error it interrupted) or a message (dbt's failures); ``doing`` says
    what the run was doing; ``folder`` is named when the cause names no file; ``path`` names the file regardless.
    """
    found = _disk_cause(cause)
    if found is None:
        return None
    code, named = found
    where = path or (Path(named) if named else folder)
    what, fix = _DISK_FAILURES[code]
    folder_of = where if where.is_dir() else where.parent
    values = {"path": where, "mount": _mount_point(where), "folder": folder_of}
    return PipelineError(f"{what.format(**values)} while {doing}: {fix.format(**values)}")


def _disk_cause(cause: BaseException | str | None) -> tuple[int, str | None] | None:
    """(errno, the file it names) of the first storage failure in ``cause``, or None."""
    if cause is None:
        return None
    if isinstance(cause, str):
        return _disk_text(cause)
    chain = list(_chain(cause))
    if any(isinstance(exc, AcuityError) for exc in chain):  # what Acuity answered (its text may say anything)
        return None
    for exc in chain:  # an OSError's errno first: it names its file exactly
        if isinstance(exc, OSError) and exc.errno in _DISK_FAILURES:
            return exc.errno, exc.filename2 or exc.filename  # a copy or move fails writing its destination
    for exc in chain:
        if (found := _disk_text(str(exc))) is not None:
            return found
    return None


def _disk_text(text: str) -> tuple[int, str | None] | None:
    for message, code in _DISK_TEXTS.items():
        at = text.find(message)
        if at >= 0:
            named = _PATH_BEFORE.search(text[:at]) or _PATH_AFTER.search(text[at + len(message) :])
            return code, None if named is None else [group for group in named.groups() if group][-1]
    return None


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception and every one it was raised from or while handling, outermost first, each once."""
    seen: set[int] = set()
    queue: list[BaseException | None] = [exc]
    while queue:
        current = queue.pop(0)
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        queue += [current.__cause__, current.__context__]


def _mount_point(path: Path) -> Path:
    """The mount point of the file system ``path`` lies (or would lie) on: where space is freed or a remount done."""
    path = Path(os.path.abspath(path))
    try:
        while not path.exists() and path != path.parent:
            path = path.parent
        device = path.stat().st_dev
        while path != path.parent and path.parent.stat().st_dev == device:
            path = path.parent
    except OSError:  # a folder on the way that cannot be read: name the path as it is
        pass
    return path
