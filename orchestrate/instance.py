"""The Dagster instance ``make orchestrate`` keeps beside the warehouse, with the limits the definitions rely on."""

import os
from pathlib import Path

# Pools limit steps (the one-writer pool, orchestrate.definitions.WRITER_POOL); tags limit runs: one run per tenant
# partition at a time (a dlt pipeline run twice at once races, dagster#21022), and a few runs at once, since Acuity's
# 10 requests/s are per IP, not per account.
INSTANCE_YAML = """\
# Written by `make orchestrate` the first time it ran; yours to edit (it is never rewritten).
concurrency:
  pools:
    default_limit: 1          # acuity_warehouse: one writer of the DuckDB warehouse at a time
  runs:
    max_concurrent_runs: 4    # accounts read at once from this machine (one IP)
    tag_concurrency_limits:
      - key: dagster/partition  # at most one run per tenant at a time
        value:
          applyLimitPerUniqueValue: true
        limit: 1
telemetry:
  enabled: false
"""


def instance_home(state_dir: Path) -> Path:
    """``DAGSTER_HOME`` if set (your instance: its limits are yours to set, see docs/orchestration.md), else
    ``dagster/`` in the warehouse's state folder, with ``INSTANCE_YAML`` written the first time: run history and
    schedules belong to one warehouse, and deleting the warehouse's state deletes them too."""
    if os.environ.get("DAGSTER_HOME"):
        return Path(os.environ["DAGSTER_HOME"])
    home = state_dir / "dagster"
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(INSTANCE_YAML)
    return home
