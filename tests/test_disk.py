"""A disk that refuses: a read-only warehouse folder, or a disk that fills up during the load, the build or the
publish. Each stops the run with one line naming the path, the cause and the fix — no traceback — keeps the analysts'
copy of the last good run as it was, and the run after the fix catches up.

The warehouse folder is a tmpfs of the test's own (``mount -t tmpfs``): a read-only mount is refused even to root,
unlike a chmod, and a small or filled one runs out of space where it would in production. Mounting needs root;
CI runs ``make test`` as root (the PostgreSQL tier drops to the postgres user with ``runuser`` for the same reason),
so these tests are skipped only when run as another user.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from helpers import (
    API_KEY,
    AS_OF,
    USER_ID,
    assert_marts_equal_ground_truth,
    pipeline_env,
    pipeline_process,
    run_pipeline,
)

from sandbox import SandboxServer, build_account
from transform.paths import analyst_path

ROOMY = "96m"  # a warehouse, its state, the analysts' copy and the copy replacing it: ~50 MB at most
MB = 2**20


@dataclass(frozen=True)
class Disk:
    """A tmpfs mounted on ``path``: a warehouse folder that can be small, grown, filled and freed."""

    path: Path

    def resize(self, size: str) -> None:
        _mount("-o", f"remount,size={size}", str(self.path))

    def fill(self, leave: int) -> None:
        """Take all the free space but ``leave`` bytes."""
        stats = os.statvfs(self.path)
        with open(self.path / "filler", "wb") as filler:
            os.posix_fallocate(filler.fileno(), 0, stats.f_bavail * stats.f_frsize - leave)

    def free(self) -> None:
        (self.path / "filler").unlink()

    @property
    def warehouse(self) -> Path:
        return self.path / "acuity.duckdb"


def _mount(*args: str) -> None:
    subprocess.run(["mount", *args], check=True, capture_output=True, text=True)


@contextlib.contextmanager
def mounted(path: Path, size: str, read_only: bool = False) -> Iterator[Disk]:
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root (CI runs `make test` as root)")
    _mount("-t", "tmpfs", "-o", f"{'ro,' if read_only else ''}size={size}", "tmpfs", str(path))
    try:
        yield Disk(path)
    finally:
        if subprocess.run(["umount", str(path)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(path)], check=True, capture_output=True)  # something still holds it


@pytest.fixture(scope="module")
def mount_point(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One path for every mount of the module: a warehouse copied from one mount to the next keeps its paths."""
    return tmp_path_factory.mktemp("disk")


def failed_run(env: dict[str, str]) -> tuple[str, str]:
    """A run that must fail: its whole output, and its one error line (no traceback, no other error line)."""
    process = pipeline_process(env, "--as-of", AS_OF.isoformat())
    output = process.communicate(timeout=300)[0]
    assert process.returncode == 1, output
    assert "Traceback" not in output and "Logging error" not in output, output
    errors = [line for line in output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, output
    return output, errors[0]


def query(path: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as connection:
        return connection.execute(sql).fetchall()


def test_a_read_only_warehouse_folder_fails_in_one_line_naming_it_and_the_fix(mount_point: Path) -> None:
    account = build_account("seed", 42, AS_OF)
    with SandboxServer({USER_ID: (API_KEY, account)}, rate_limit=False) as server:
        with mounted(mount_point, "1m", read_only=True) as disk:
            output, line = failed_run(pipeline_env(server, disk.warehouse))
        assert server.request_log == [], "nothing was fetched"

    assert output.strip() == line, "the whole output is the one line"
    assert line == (
        f"error: the file system is read-only (EROFS) writing {disk.path} while checking the warehouse folder:"
        f" remount {disk.path} read-write or set ACUITY_WAREHOUSE to a folder on a writable disk, and run again"
    )


@dataclass(frozen=True)
class FirstDay:
    failed: str  # the error line of the first run, on a disk too small for it
    published_after_failure: bool
    caught_up: str  # the output of the run after the disk was grown
    template: Path  # the warehouse folder after that run, copied off the tmpfs


@pytest.fixture(scope="module")
def first_day(mount_point: Path, tmp_path_factory: pytest.TempPathFactory) -> FirstDay:
    """A first deployment on a 3 MB disk (the first sync's load does not fit), then the disk grown and run again.

    The warehouse it leaves is the starting point of the later-run tests, which saves each a first run.
    """
    account = build_account("seed", 42, AS_OF)
    with (
        SandboxServer({USER_ID: (API_KEY, account)}, rate_limit=False) as server,
        mounted(mount_point, "3m") as disk,
    ):
        env = pipeline_env(server, disk.warehouse)
        _, failed = failed_run(env)
        published = analyst_path(disk.warehouse).exists()
        disk.resize(ROOMY)
        caught_up = run_pipeline(env, "--as-of", AS_OF.isoformat())
        template = tmp_path_factory.mktemp("template")
        shutil.copytree(disk.path, template, dirs_exist_ok=True)
    return FirstDay(failed, published, caught_up, template)


def test_a_first_sync_that_fills_the_disk_fails_in_one_line_and_the_run_after_freeing_space_catches_up(
    first_day: FirstDay, mount_point: Path
) -> None:
    assert first_day.failed.startswith(f"error: the disk is full (ENOSPC) writing {mount_point}"), first_day.failed
    assert first_day.failed.endswith(f" while syncing tenant default: free space on {mount_point} and run again"), (
        first_day.failed
    )
    assert not first_day.published_after_failure
    analyst = first_day.template / "analyst.duckdb"
    assert_marts_equal_ground_truth(lambda sql: query(analyst, sql), build_account("seed", 42, AS_OF))


@pytest.mark.parametrize(
    ("leave", "stage"),
    [
        # sizes measured: with the seed account and these changes, up to 4 MB can fail the sync (it loads add-ons and
        # certificates too), 5 MB the build, 6 MB the checkpoint before the publish, 10 MB the copy of the warehouse
        pytest.param(5 * MB, "building the models", id="build"),
        pytest.param(10 * MB, "publishing the analysts' copy", id="publish"),
    ],
)
def test_a_later_run_that_fills_the_disk_keeps_the_published_copy_and_the_run_after_freeing_space_catches_up(
    first_day: FirstDay, mount_point: Path, leave: int, stage: str
) -> None:
    account = build_account("seed", 42, AS_OF)
    account.mutate_all(rng_seed=3)
    with (
        SandboxServer({USER_ID: (API_KEY, account)}, rate_limit=False) as server,
        mounted(mount_point, ROOMY) as disk,
    ):
        shutil.copytree(first_day.template, disk.path, dirs_exist_ok=True)
        env = pipeline_env(server, disk.warehouse)
        analyst = analyst_path(disk.warehouse)
        published = analyst.read_bytes()
        disk.fill(leave)

        _, line = failed_run(env)

        assert line.startswith(f"error: the disk is full (ENOSPC) writing {disk.path}"), line
        assert line.endswith(f" while {stage}: free space on {disk.path} and run again"), line
        assert analyst.read_bytes() == published, "the analysts' copy is the last good run's, untouched"
        assert query(analyst, "select count(*) from marts.future_appointments") == [(100,)]

        disk.free()
        run_pipeline(env, "--as-of", AS_OF.isoformat())

        assert_marts_equal_ground_truth(lambda sql: query(analyst, sql), account)
        assert not list(disk.path.glob(".analyst.duckdb.*.tmp"))
