"""dbt, run as a child process, with failing models and tests named one per line.

A child process rather than dbt's in-process runner: dbt-duckdb keeps its DuckDB handle open for the life of the
process, which would lock the warehouse against the summary, the analysts and the next sync; a child releases
everything when it exits, and a crash inside dbt cannot take the pipeline's state with it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from transform.paths import PROJECT_DIR
from transform.warehouse import Warehouse

_ANSI = re.compile(r"\x1b\[[0-9;]*m")  # dbt colours unit-test diffs even when not on a terminal


@dataclass
class DbtOutcome:
    success: bool
    failures: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


def target_path() -> Path:
    """dbt's artifacts (manifest, run_results, docs); ``ACUITY_DBT_TARGET_PATH`` moves them (tests do)."""
    return Path(os.environ.get("ACUITY_DBT_TARGET_PATH", PROJECT_DIR / "target"))


def run_dbt(command: list[str], warehouse: Warehouse, dbt_vars: dict[str, Any] | None = None) -> DbtOutcome:
    """Run ``dbt <command>`` against ``warehouse``; report each failing node by name and message."""
    env = {
        **os.environ,
        **warehouse.dbt_env(),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DBT_TARGET_PATH": str(target_path()),
        "DBT_LOG_PATH": str(target_path() / "logs"),
    }
    args = [*command, "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR)]
    if dbt_vars:
        args += ["--vars", json.dumps(dbt_vars)]
    if not os.environ.get("ACUITY_DBT_VERBOSE"):
        args = ["--quiet", *args]
    results_file = target_path() / "run_results.json"
    results_file.unlink(missing_ok=True)
    completed = subprocess.run(
        [sys.executable, "-c", "from dbt.cli.main import cli; cli()", *args], env=env, cwd=PROJECT_DIR, check=False
    )
    outcome = DbtOutcome(success=completed.returncode == 0)
    if results_file.exists() and command[0] in ("build", "run", "test"):
        for node in json.loads(results_file.read_text()).get("results", []):
            status = node.get("status", "")
            outcome.counts[status] = outcome.counts.get(status, 0) + 1
            if status in ("error", "fail"):
                name = node.get("unique_id", "?").split(".")[-1]
                message = _ANSI.sub("", " ".join(str(node.get("message") or "").split()))
                outcome.failures.append(f"{name}: {message}")
    if not outcome.success and not outcome.failures:
        outcome.failures.append(f"dbt {command[0]} exited with code {completed.returncode} (see the output above)")
    return outcome
