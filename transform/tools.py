"""The analyst-facing commands: dbt docs and a read-only SQL shell on the warehouse."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from extract.errors import AcuityError
from transform import warehouse as warehouses
from transform.dbt import run_dbt
from transform.paths import PROJECT_DIR, warehouse_path


def _require_warehouse() -> Path:
    path = warehouse_path()
    if not path.exists():
        raise AcuityError(f"no warehouse at {path}: run `make pipeline` first")
    return path


def serve_docs(port: int) -> int:
    """``dbt docs generate`` then ``dbt docs serve`` on 127.0.0.1:port."""
    warehouse = warehouses.current()
    if warehouse.target == "duckdb":
        _require_warehouse()
    outcome = run_dbt(["docs", "generate"], warehouse)
    if not outcome.success:
        raise AcuityError("dbt docs generate failed: " + "; ".join(outcome.failures))
    print(f"Serving dbt docs on http://127.0.0.1:{port} (Ctrl-C to stop)")
    outcome = run_dbt(["docs", "serve", "--host", "127.0.0.1", "--port", str(port), "--no-browser"], warehouse)
    return 0 if outcome.success else 1


def sql_shell() -> int:
    """Replace this process with the DuckDB CLI, read-only, after listing the marts."""
    warehouse = _require_warehouse()
    cli = shutil.which("duckdb", path=str(Path(sys.executable).parent)) or shutil.which("duckdb")
    if cli is None:
        raise AcuityError("the duckdb CLI is missing: run `make sql` (it installs duckdb-cli into .venv)")
    print(f"Warehouse {warehouse} (read-only). Marts: marts.future_appointments, marts.contacts,")
    print("marts.contact_revenue, marts.sync_metrics. Ready queries: analyses/. Type .quit to leave.")
    os.chdir(PROJECT_DIR)
    os.execv(cli, [cli, "-readonly", str(warehouse)])
    return 0  # not reached
