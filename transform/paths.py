"""Where things live. Everything defaults to the repository and can be moved with one environment variable.

Every piece of state a run keeps besides the warehouse itself — dlt's working folder, dbt's target, the run lock —
lives in a folder beside the warehouse file (``.acuity.duckdb.state/``), so two pipelines on two warehouses never
share anything, and deleting a warehouse's file and its folder starts that warehouse over.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[1]
# The embedded demo (no credentials set) never shares a warehouse with a real account: it writes into this sub-folder
# of the real warehouse's folder. Deleting the folder drops every trace of the demo.
DEMO_FOLDER = "demo"


def _in_project(path: Path) -> Path:
    return path if path.is_absolute() else PROJECT_DIR / path


def warehouse_path(demo: bool = False) -> Path:
    """The DuckDB file dlt loads and dbt builds (``ACUITY_WAREHOUSE``, default ``warehouse/acuity.duckdb``); the
    embedded demo's is ``demo/acuity.duckdb`` beside it."""
    path = _in_project(Path(os.environ.get("ACUITY_WAREHOUSE", PROJECT_DIR / "warehouse" / "acuity.duckdb")))
    return path.parent / DEMO_FOLDER / path.name if demo else path


def analyst_path(warehouse: Path) -> Path:
    """The read-only copy analysts open, published beside the private warehouse after every green build."""
    return warehouse.with_name("analyst.duckdb")


def state_dir(warehouse: Path) -> Path:
    """The folder of everything a run keeps for this warehouse besides the warehouse itself."""
    return warehouse.with_name(f".{warehouse.name}.state")


def pipelines_dir(warehouse: Path) -> Path:
    """dlt's working folders (``ACUITY_DLT_DIR``); state also lives in the warehouse, so losing these is safe."""
    override = os.environ.get("ACUITY_DLT_DIR")
    folder = _in_project(Path(override)) if override else state_dir(warehouse) / "dlt"
    return _without_quotes(folder) if "'" in str(folder) else folder


def _without_quotes(folder: Path) -> Path:
    """Where dlt works instead of ``folder`` when its path holds a ``'``: a folder of the temp folder named after it.

    dlt's DuckDB loader quotes each load file's path in SQL without escaping it (``read_parquet('<path>')``, and it
    resolves symlinks first), so a ``'`` anywhere in the path failed every load. Losing this folder is safe (dlt's
    state lives in the warehouse; a pending load is then re-read by the next run).
    """
    return (
        Path(tempfile.gettempdir())
        / f"acuity-elt-{os.getuid()}"
        / hashlib.sha256(str(folder).encode()).hexdigest()[:16]
    )


def dbt_target_dir(warehouse: Path) -> Path:
    """dbt's target folder: manifest, partial-parse cache, docs (``ACUITY_DBT_TARGET_PATH``)."""
    override = os.environ.get("ACUITY_DBT_TARGET_PATH")
    return _in_project(Path(override)) if override else state_dir(warehouse) / "dbt"


def published_warehouse() -> Path:
    """The warehouse whose analysts' copy ``make sql``/``make report`` open: the real one once it has been published,
    else the embedded demo's (before a real account was ever synced)."""
    real, demo = warehouse_path(), warehouse_path(demo=True)
    return demo if not analyst_path(real).exists() and analyst_path(demo).exists() else real
