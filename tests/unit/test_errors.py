"""The one line a failed run prints: the cause a user can act on, not dlt's wrapper around it."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import duckdb
import pytest

from extract.errors import AcuityAuthError
from extract.pipeline import one_line
from transform.errors import disk_failure

pytestmark = pytest.mark.unit


def test_one_line_finds_the_acuity_cause_inside_wrappers() -> None:
    try:
        try:
            raise AcuityAuthError("Acuity refused the credentials for user id 1 (HTTP 401)")
        except AcuityAuthError as cause:
            raise RuntimeError("Pipeline execution failed at stage extract\n  with a long\n  description") from cause
    except RuntimeError as wrapper:
        assert one_line(wrapper) == "Acuity refused the credentials for user id 1 (HTTP 401)"


def test_one_line_of_a_foreign_error_names_its_type_on_one_line() -> None:
    line = one_line(OSError("disk\nfull"))
    assert line == "OSError: disk full"


# ---- a disk that refuses: one line with the cause, the path and the fix (transform.errors.disk_failure) ----------
def _raised_from(*chain: BaseException) -> BaseException:
    """``chain[0]`` raised while handling ``chain[1]``, raised while handling ``chain[2]``, …"""

    def throw(at: int) -> None:
        if at == len(chain) - 1:
            raise chain[at]
        try:
            throw(at + 1)
        except BaseException:
            raise chain[at]  # noqa: B904 - the context is the point

    try:
        throw(0)
    except BaseException as outer:
        return outer
    raise AssertionError("unreachable")


def _line(cause: BaseException | str, folder: Path = Path("/srv/warehouse")) -> str:
    failure = disk_failure(cause, "doing it", folder)
    assert failure is not None, cause
    return str(failure)


def test_a_full_disk_names_the_file_the_step_and_where_to_free_space(tmp_path: Path) -> None:
    wal = tmp_path / "acuity.duckdb.wal"
    line = _line(OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(wal)))
    assert line.startswith(f"the disk is full (ENOSPC) writing {wal} while doing it: free space on /")
    mount = Path(line.split("free space on ")[1].removesuffix(" and run again"))
    assert wal.is_relative_to(mount), "the file system's mount point, where space is freed"


def test_a_full_disk_is_found_behind_wrappers_and_the_error_it_interrupted() -> None:
    """dlt moves a file across devices (EXDEV), copies it instead, the copy fills the disk; dlt wraps that."""
    copy = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), "/tmp/job.sql", None, "/srv/warehouse/job.sql")
    chain = _raised_from(RuntimeError("Pipeline execution failed at step=load"), copy, OSError(errno.EXDEV, "x-dev"))
    assert _line(chain).startswith("the disk is full (ENOSPC) writing /srv/warehouse/job.sql while doing it")


@pytest.mark.parametrize(
    ("message", "named"),
    [
        ('TransactionContext Error: Failed to commit: Could not write file "/srv/w/acuity.duckdb.wal": No space'
         " left on device", "/srv/w/acuity.duckdb.wal"),  # DuckDB
        ('FATAL Error: Failed to create checkpoint because of error: Could not write file "/srv/w/acuity.duckdb": No'
         " space left on device", "/srv/w/acuity.duckdb"),
        ("relationships on orders.contact_id: [Errno 28] No space left on device", "/srv/warehouse"),  # dbt
        ("Job failed: File \"/venv/dlt/sql_client.py\", line 3\n OSError: [Errno 28] No space left on device",
         "/srv/warehouse"),  # a traceback's file is not the one written
    ],
)  # fmt: skip
def test_a_full_disk_in_a_message_names_the_file_next_to_the_cause(message: str, named: str) -> None:
    assert _line(message).startswith(f"the disk is full (ENOSPC) writing {named} while doing it")
    assert _line(duckdb.IOException(message)).startswith(f"the disk is full (ENOSPC) writing {named} while")


def test_a_read_only_or_forbidden_folder_says_how_to_make_it_writable() -> None:
    read_only = _line(OSError(errno.EROFS, os.strerror(errno.EROFS), "/srv/warehouse"))
    assert read_only.startswith("the file system is read-only (EROFS) writing /srv/warehouse while doing it: remount")
    assert read_only.endswith("read-write or set ACUITY_WAREHOUSE to a folder on a writable disk, and run again")
    forbidden = _line(OSError(errno.EACCES, os.strerror(errno.EACCES), "/srv/warehouse/acuity.duckdb"))
    assert forbidden == (
        "permission denied (EACCES) on /srv/warehouse/acuity.duckdb while doing it: let this user write to"
        " /srv/warehouse or set ACUITY_WAREHOUSE to a folder it can write, and run again"
    )


@pytest.mark.parametrize(
    "cause",
    [
        None,
        "unique on contacts.contact_id: Got 2 results, configured to fail if != 0",
        OSError(errno.ECONNRESET, "Connection reset by peer"),
        ValueError("bad"),
        # what Acuity answered may say anything, even this
        _raised_from(RuntimeError("extract failed"), AcuityAuthError("HTTP 403: Permission denied")),
    ],
)
def test_other_failures_are_not_the_disks(cause: BaseException | str | None) -> None:
    assert disk_failure(cause, "doing it", Path("/srv/warehouse")) is None
