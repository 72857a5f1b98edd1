"""The analyst-facing commands: dbt docs and a read-only SQL shell on the warehouse."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from transform import warehouse as warehouses
from transform.dbt import run_dbt
from transform.errors import PipelineError
from transform.paths import PROJECT_DIR, analyst_path, published_warehouse
from transform.publish import exclusive_run


def _require(path: Path) -> Path:
    if not path.exists():
        raise PipelineError(f"no warehouse at {path}: run `make pipeline` first")
    return path


def serve_docs(port: int) -> int:
    """``dbt docs generate`` (under the pipeline's lock: it reads the catalog of the private warehouse), then
    ``dbt docs serve`` on 127.0.0.1:port, which only serves the generated files."""
    warehouse = warehouses.current()
    if warehouse.target == "duckdb" and published_warehouse() != warehouse.path:
        warehouse = warehouses.current(demo=True)  # only the demo has been synced so far
    with exclusive_run(warehouse.path):
        if warehouse.target == "duckdb":
            _require(warehouse.path)
        outcome = run_dbt(["docs", "generate"], warehouse)
    if not outcome.success:
        raise PipelineError("dbt docs generate failed: " + "; ".join(outcome.failures))
    print(f"Serving dbt docs on http://127.0.0.1:{port} (Ctrl-C to stop)")
    outcome = run_dbt(["docs", "serve", "--host", "127.0.0.1", "--port", str(port), "--no-browser"], warehouse)
    return 0 if outcome.success else 1


def sql_shell() -> int:
    """Replace this process with the DuckDB CLI on the analysts' published copy, read-only."""
    warehouse = _require(analyst_path(published_warehouse()))
    cli = shutil.which("duckdb", path=str(Path(sys.executable).parent)) or shutil.which("duckdb")
    if cli is None:
        raise PipelineError("the duckdb CLI is missing: run `make sql` (it installs duckdb-cli into .venv)")
    print(f"Warehouse {warehouse} (read-only). Marts: marts.future_appointments, marts.contacts,")
    print("marts.contact_revenue, marts.sync_metrics, marts.rejected_records. Ready queries: analyses/. .quit leaves.")
    os.chdir(PROJECT_DIR)
    os.execv(cli, [cli, "-readonly", str(warehouse)])
    return 0  # not reached
