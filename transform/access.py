"""Who may read what the pipeline writes: its owner, and the group ``ACUITY_FILE_GROUP`` names; never others.

Every file the run creates is created under a umask that denies others (and the group, unless one is named), so a
WAL, a dlt package or a dbt log is never readable for a moment by anyone else. The files people read are then given
the group (``chown``) and their mode: the warehouse 0640, its state folder 0750 (setgid, so what dlt and dbt create
in it inherits the group), the analysts' copy 0440 (read-only on disk, as before), the report 0640; without a group,
0600, 0700, 0400 and 0600. The salt of the state folder (``transform.erasures``) is the owner's alone (0600).
"""

from __future__ import annotations

import contextlib
import grp
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from transform.errors import PipelineError

if TYPE_CHECKING:
    from transform.warehouse import Warehouse

OWNER_ONLY = 0o600


@dataclass(frozen=True)
class Access:
    """The group (gid) that may read, or None for the owner only."""

    gid: int | None = None

    @property
    def umask(self) -> int:
        return 0o027 if self.gid is not None else 0o077

    @property
    def file_mode(self) -> int:
        return 0o640 if self.gid is not None else 0o600

    @property
    def read_only_mode(self) -> int:
        return 0o440 if self.gid is not None else 0o400

    @property
    def folder_mode(self) -> int:
        return 0o2750 if self.gid is not None else 0o700

    def give(self, path: Path, mode: int | None = None) -> None:
        """Set ``path``'s group (when one is named) and mode: a folder's or a file's default, or ``mode``."""
        if self.gid is not None:
            try:
                os.chown(path, -1, self.gid)
            except PermissionError:
                raise PipelineError(
                    f"ACUITY_FILE_GROUP: cannot give {path} to group {self.gid} (this user is not in it): add the"
                    " user to the group, or name another"
                ) from None
        os.chmod(path, mode if mode is not None else self.folder_mode if path.is_dir() else self.file_mode)


def current() -> Access:
    """``ACUITY_FILE_GROUP`` (a group name or number) as an ``Access``; a group that does not exist is refused."""
    value = os.environ.get("ACUITY_FILE_GROUP", "").strip()
    if not value:
        return Access()
    try:
        return Access(grp.getgrgid(int(value)).gr_gid if value.isdigit() else grp.getgrnam(value).gr_gid)
    except (KeyError, OverflowError):
        raise PipelineError(
            f"ACUITY_FILE_GROUP={value!r} is not a group on this machine; e.g. ACUITY_FILE_GROUP=analysts"
        ) from None


@contextlib.contextmanager
def restricted(access: Access) -> Iterator[None]:
    """Create every file under ``access``'s umask while the block runs (the umask is the process's: restored)."""
    previous = os.umask(access.umask)
    try:
        yield
    finally:
        os.umask(previous)


def write_file(path: Path, data: bytes, access: Access) -> None:
    """Write ``path`` whole, readable as ``access`` says from its first byte: a temp file beside it, then a swap."""
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        descriptor = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, OWNER_ONLY)
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
        access.give(temp)
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)


def secure(warehouse: Warehouse, access: Access) -> None:
    """Give what a warehouse keeps its access: the state folder (and dlt's and dbt's folders where they were moved),
    the warehouse file, the analysts' copy and the report beside it, those that exist."""
    for folder in dict.fromkeys((warehouse.state_dir, warehouse.pipelines_dir, warehouse.dbt_target_dir)):
        if folder.is_dir():
            access.give(folder)
    if warehouse.target != "duckdb":
        return
    real = Path(os.path.realpath(warehouse.path))
    for path, mode in ((real, None), (warehouse.analyst_path, access.read_only_mode), (report_path(warehouse), None)):
        if path.is_file():
            access.give(path, mode)


def report_path(warehouse: Warehouse) -> Path:
    """Where ``make report`` writes by default: ``report.html`` beside the warehouse."""
    return warehouse.path.with_name("report.html")
