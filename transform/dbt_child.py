"""The child side of transform.dbt: get dbt ready, then run the one command the parent sends.

``python -m transform.dbt_child RESULT_FD ARGS_JSON``: imports dbt and parses the project (neither touches the
warehouse), then reads one JSON line of dbt arguments from stdin and runs them on the parsed manifest
(``dbtRunner(manifest=…)``, dbt's documented programmatic invocation). An empty stdin means the parent needed no dbt
this time. The outcome goes to RESULT_FD as JSON; dbt's own output stays on stdout.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from typing import Any


def node_results(result: Any) -> list[dict[str, Any]]:
    """Status and message of each node dbt ran (build/run/test/compile); other commands have none. A data test that
    failed or warned also carries its compiled SQL, so the parent can say which tenants and records it found."""
    results = []
    for node in getattr(result, "results", None) or []:
        if getattr(node, "node", None) is None:
            continue
        status = str(getattr(node.status, "value", node.status))
        found = {
            "unique_id": node.node.unique_id,
            "label": node_label(node.node),
            "status": status,
            "message": None if node.message is None else str(node.message),
        }
        if status in ("fail", "warn") and getattr(node.node, "resource_type", None) == "test":
            found["sql"] = getattr(node.node, "compiled_code", None)
        results.append(found)
    return results


def node_label(node: Any) -> str:
    """What a person recognises: a generic test as ``<test> on <model>.<column>`` (dbt names long ones by a hash),
    unless the YAML gave it a name of its own (``sync_metrics_fetched_equals_attempted_plus_skips``)."""
    metadata = getattr(node, "test_metadata", None)
    if metadata is None or not str(node.name).startswith(f"{metadata.name}_"):
        return str(node.name)
    model = str(getattr(node, "attached_node", None) or "").split(".")[-1]
    column = getattr(node, "column_name", None)
    target = ".".join(part for part in (model, column) if part)
    return f"{metadata.name} on {target}" if target else str(metadata.name)


def main(argv: list[str]) -> int:
    from transform.signals import ignore_in_child

    ignore_in_child()  # the parent stops and reaps this child; a Ctrl-C to the whole group must not print dbt's trace
    # a log file dbt cannot write (a full or read-only disk) must not print a traceback per log line: the command's
    # own failure says what happened, in one line (transform.errors.disk_failure)
    logging.raiseExceptions = False
    with os.fdopen(int(argv[1]), "w") as out:
        common: list[str] = json.loads(argv[2])
        from dbt.cli.main import dbtRunner

        # nothing on the console while getting ready: the parent may never send a command (a sync that failed, say
        # on a full disk, which would also fail this parse with dbt's traceback); a failed parse is reported in one
        # line when a command comes, and dbt.log keeps its details
        parsed = dbtRunner().invoke(["parse", "--no-write-json", *common, "--log-level", "none"])
        line = sys.stdin.readline()
        if not line:
            return 0
        if not parsed.success:
            error = f"parsing the project failed: {parsed.exception or 'see the output above'}"
            json.dump({"success": False, "error": error}, out)
            return 2
        invoked = dbtRunner(manifest=parsed.result).invoke([*json.loads(line), *common])
        error = None if invoked.exception is None else str(invoked.exception)
        json.dump({"success": invoked.success, "error": error, "nodes": node_results(invoked.result)}, out)
        return 0 if invoked.success else (1 if error is None else 2)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
