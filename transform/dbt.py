"""dbt, invoked in-process (dbt's programmatic ``dbtRunner``), with failures named one per line."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from transform.paths import PROJECT_DIR


@dataclass
class DbtOutcome:
    success: bool
    failures: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


def run_dbt(command: list[str], warehouse: Path, dbt_vars: dict[str, Any] | None = None) -> DbtOutcome:
    """Run ``dbt <command>`` against ``warehouse``; a failing model or test is reported by name and message."""
    from dbt.cli.main import dbtRunner  # imported late: dbt's import alone costs about a second

    os.environ["ACUITY_WAREHOUSE"] = str(warehouse)
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    args = [*command, "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR)]
    if dbt_vars:
        args += ["--vars", json.dumps(dbt_vars)]
    if not os.environ.get("ACUITY_DBT_VERBOSE"):
        args.insert(0, "--quiet")
    result = dbtRunner().invoke(args)
    outcome = DbtOutcome(success=bool(result.success))
    for node_result in getattr(result.result, "results", None) or []:
        status = str(node_result.status)
        outcome.counts[status] = outcome.counts.get(status, 0) + 1
        if status in ("error", "fail"):
            message = " ".join(str(node_result.message or "").split())
            outcome.failures.append(f"{node_result.node.name}: {message}")
    if result.exception is not None and not outcome.failures:
        outcome.failures.append(" ".join(str(result.exception).split()))
    return outcome
