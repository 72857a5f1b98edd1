"""The machine a result was measured on: figures from another machine (or a busy one) are not comparable."""

from __future__ import annotations

import os
import platform
import sys
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

PACKAGES = ("dlt", "duckdb", "dbt-core", "dbt-duckdb", "pyarrow", "requests")


def _proc_field(path: str, key: str) -> str | None:
    try:
        for line in Path(path).read_text().splitlines():
            name, _, value = line.partition(":")
            if name.strip() == key:
                return value.strip()
    except OSError:
        pass
    return None


def load_average() -> list[float]:
    """Other people share this machine: the load around a run says how much of it was ours."""
    try:
        return [float(v) for v in Path("/proc/loadavg").read_text().split()[:3]]
    except (OSError, ValueError):
        return []


def describe() -> dict[str, object]:
    mem_kb = _proc_field("/proc/meminfo", "MemTotal")
    versions = {}
    for package in PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "nproc": len(os.sched_getaffinity(0)),
        "ram_gib": round(int(mem_kb.split()[0]) / 2**20, 1) if mem_kb else None,
        "cpu_model": _proc_field("/proc/cpuinfo", "model name") or platform.processor(),
        "kernel": platform.release(),
        "python": sys.version.split()[0],
        "packages": versions,
        "load_average_at_start": load_average(),
    }
