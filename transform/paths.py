"""Where things live. Everything defaults to the repository and can be moved with one environment variable."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[1]


def warehouse_path() -> Path:
    """The DuckDB file dlt loads and dbt builds (``ACUITY_WAREHOUSE``, default ``warehouse/acuity.duckdb``)."""
    path = Path(os.environ.get("ACUITY_WAREHOUSE", PROJECT_DIR / "warehouse" / "acuity.duckdb"))
    return path if path.is_absolute() else PROJECT_DIR / path


def pipelines_dir() -> Path:
    """dlt's working folders (``ACUITY_DLT_DIR``); state also lives in the warehouse, so losing these is safe."""
    path = Path(os.environ.get("ACUITY_DLT_DIR", PROJECT_DIR / ".dlt_pipelines"))
    return path if path.is_absolute() else PROJECT_DIR / path
