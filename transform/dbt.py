"""dbt, run in a child process that gets ready ahead of need, with failing models and tests named one per line.

A child process rather than dbt's in-process runner: dbt-duckdb keeps its DuckDB handle open for the life of the
process, which would lock the warehouse against the summary, the analysts and the next sync; a child releases
everything when it exits, and a crash inside dbt cannot take the pipeline's state with it.

Importing dbt and parsing the project cost ~2.5 s of CPU before dbt touches the warehouse, more than the whole sync of
a small account. So the pipeline starts the child (``DbtProcess``) before it extracts: dbt gets ready on the other core
while the sync runs, and the build starts on the parsed manifest the moment the load has committed.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from transform.paths import PROJECT_DIR

if TYPE_CHECKING:
    from transform.warehouse import Warehouse

_ANSI = re.compile(r"\x1b\[[0-9;]*m")  # dbt colours unit-test diffs even when not on a terminal


@dataclass
class DbtOutcome:
    """What one dbt command did: failing nodes (``error``/``fail``) and data tests that only warn (``warnings``, a
    seed row naming nothing, say), one ``"<node>: <message>"`` line each, and how many nodes ended in each status."""

    success: bool
    failures: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    # the compiled SQL of each failing data test, by its line in ``failures``: which rows it found (name_rows)
    failing_sql: dict[int, str] = field(default_factory=dict)

    def name_rows(self, connection: Any) -> None:
        """Add to each failing data test's line the tenants and records it found, read back with its own SQL, so one
        line says whose data broke which invariant (``… — tenant north: appointment_id 123, 456``). Ids only: the
        rows may hold personal data, which stays in the warehouse. A query that fails leaves the line as it is."""
        for index, sql in self.failing_sql.items():
            with contextlib.suppress(Exception):
                if (found := _found_rows(connection, sql)) is not None:
                    self.failures[index] += f" — {found}"


_ID_COLUMNS = ("appointment_id", "order_id", "contact_id", "record_id", "run_id", "identifier_type")
_SHOWN_IDS = 5


def _found_rows(connection: Any, sql: str) -> str | None:
    """``tenant north: appointment_id 123, 456 …; tenant south`` for the rows a failing test's SQL selects, or None
    when they carry no tenant_id (an aggregate over every tenant)."""
    cursor = connection.cursor()
    cursor.execute(f"select * from ({sql}) as failing limit 200")
    names = [str(column[0]).lower() for column in cursor.description]
    if "tenant_id" not in names:
        return None
    tenant = names.index("tenant_id")
    key = next((names.index(name) for name in _ID_COLUMNS if name in names), None)
    found: dict[str, list[str]] = {}
    for row in cursor.fetchall():
        found.setdefault(str(row[tenant]), [])
        if key is not None and row[key] is not None:
            found[str(row[tenant])].append(str(row[key]))
    parts = []
    for tenant_id, ids in found.items():
        shown = ", ".join(ids[:_SHOWN_IDS]) + (" …" if len(ids) > _SHOWN_IDS else "")
        parts.append(f"tenant {tenant_id}" + (f": {names[key]} {shown}" if key is not None and ids else ""))
    return "; ".join(parts) or None


def target_path(warehouse: Warehouse | None = None) -> Path:
    """dbt's artifacts (manifest, run_results, docs, partial parse) of a warehouse (default: the configured one)."""
    from transform.warehouse import current

    return (warehouse or current()).dbt_target_dir


def verbose() -> bool:
    """``ACUITY_DBT_VERBOSE=1``: dbt's progress lines, its debug log (every SQL statement) and its JSON artifacts on
    every call. Off, a small build skips logging each SQL statement, ~15% of its time."""
    return bool(os.environ.get("ACUITY_DBT_VERBOSE"))


def _flags() -> list[str]:
    flags = ["--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR)]
    return flags if verbose() else [*flags, "--quiet", "--log-level-file", "info"]


class DbtProcess:
    """One dbt command in a child that imports dbt and parses the project as soon as it is created."""

    def __init__(self, warehouse: Warehouse) -> None:
        env = {
            **os.environ,
            **warehouse.dbt_env(),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            "DBT_TARGET_PATH": str(warehouse.dbt_target_dir),
            "DBT_LOG_PATH": str(warehouse.dbt_target_dir / "logs"),
        }
        read_fd, write_fd = os.pipe()
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "transform.dbt_child", str(write_fd), json.dumps(_flags())],
                stdin=subprocess.PIPE,
                env=env,
                cwd=PROJECT_DIR,
                pass_fds=(write_fd,),
                text=True,
            )
        finally:
            os.close(write_fd)
        self._results = os.fdopen(read_fd, "r")

    def run(self, command: list[str], artifacts: bool = True) -> DbtOutcome:
        """Run ``dbt <command>`` and wait for it; report each failing node by name and message.

        ``artifacts=False`` skips dbt's manifest.json and run_results.json (unless verbose): the outcome carries what
        the pipeline needs, and writing them is a tenth of a small build."""
        if not artifacts and not verbose():
            command = [*command, "--no-write-json"]
        assert self._process.stdin is not None
        try:
            self._process.stdin.write(json.dumps(command) + "\n")
            self._process.stdin.close()
        except BrokenPipeError:  # the child died getting ready; its exit code and output say why
            pass
        payload = self._results.read()
        returncode = self._process.wait()
        result = json.loads(payload) if payload else {"success": False}
        outcome = DbtOutcome(success=returncode == 0 and bool(result.get("success")))
        for node in result.get("nodes", []):
            status = node["status"]
            outcome.counts[status] = outcome.counts.get(status, 0) + 1
            if status in ("error", "fail", "warn"):
                message = _ANSI.sub("", " ".join(str(node.get("message") or "").split()))
                label = node.get("label") or node["unique_id"].split(".")[-1]
                (outcome.warnings if status == "warn" else outcome.failures).append(f"{label}: {message}")
                if status == "fail" and node.get("sql"):
                    outcome.failing_sql[len(outcome.failures) - 1] = node["sql"]
        if not outcome.success and not outcome.failures:
            detail = result.get("error") or f"dbt exited with code {returncode} (see the output above)"
            outcome.failures.append(" ".join(_ANSI.sub("", detail).split()))
        return outcome

    def close(self) -> None:
        """Let an unused child go: it sees the end of its input and exits (it never opened the warehouse)."""
        if self._process.stdin is not None and not self._process.stdin.closed:
            self._process.stdin.close()
        self._process.wait()
        self._results.close()

    def __enter__(self) -> DbtProcess:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if kind is not None and self._process.poll() is None:
            self._process.kill()  # the parent is failing (Ctrl-C, crash): do not leave dbt behind
        self.close()


def run_dbt(command: list[str], warehouse: Warehouse) -> DbtOutcome:
    """Run ``dbt <command>`` against ``warehouse`` in a fresh child."""
    with DbtProcess(warehouse) as dbt:
        return dbt.run(command)
