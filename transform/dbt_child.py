"""The child side of transform.dbt: get dbt ready, then run the one command the parent sends.

``python -m transform.dbt_child RESULT_FD ARGS_JSON``: imports dbt and parses the project (neither touches the
warehouse), then reads one JSON line of dbt arguments from stdin and runs them on the parsed manifest. An empty stdin
means the parent needed no dbt this time. The outcome goes to RESULT_FD as JSON; dbt's own output stays on stdout.
What dbt compiles the same way in every process comes from ``transform.dbt_cache`` when an earlier run kept it.
"""

from __future__ import annotations

import gc
import json
import os
import sys
from typing import Any


def node_results(result: Any) -> list[dict[str, Any]]:
    """Status and message of each node dbt ran (build/run/test/compile); other commands have none."""
    return [
        {
            "unique_id": node.node.unique_id,
            "status": str(getattr(node.status, "value", node.status)),
            "message": None if node.message is None else str(node.message),
        }
        for node in getattr(result, "results", None) or []
        if getattr(node, "node", None) is not None
    ]


def main(argv: list[str]) -> int:
    with os.fdopen(int(argv[1]), "w") as out:
        common: list[str] = json.loads(argv[2])
        from dbt.cli.main import dbtRunner

        from transform.dbt import target_path
        from transform.dbt_cache import DbtCache

        cache = DbtCache(target_path())
        cache.install()
        try:
            parsed = dbtRunner().invoke(["parse", "--no-write-json", *common])
            line = sys.stdin.readline()
            if not line:
                return 0
            if not parsed.success:
                error = f"parsing the project failed: {parsed.exception or 'see the output above'}"
                json.dump({"success": False, "error": error}, out)
                return 2
            invoked = dbtRunner(manifest=parsed.result).invoke([*json.loads(line), *common])
        finally:
            cache.save()
        error = None if invoked.exception is None else str(invoked.exception)
        json.dump({"success": invoked.success, "error": error, "nodes": node_results(invoked.result)}, out)
        return 0 if invoked.success else (1 if error is None else 2)


if __name__ == "__main__":
    code = main(sys.argv)
    # dbt leaves a large heap; the garbage collector's pass over it at exit took ~0.3 s of every build. Objects are
    # still freed and DuckDB still closes (checkpointing) as usual.
    gc.freeze()
    raise SystemExit(code)
