"""The run journal: every run leaves a row in ``sync_runs``, also one that failed after its sync or was stopped.

A tenant's sync writes its own run row (extract/pipeline.py), except when it is stopped by a signal, killed outright,
or fails leaving a load pending (dlt would resume that package instead of writing the row). What such a run owes is
kept in one small JSON file per run in the warehouse's state folder, rewritten at each stage. The next run on the
warehouse turns every file it finds into run rows (status ``interrupted`` or ``failed``, the stage, the tenant, one
line of error), which its first recorded sync writes next to its own row, and deletes the files; a file still marked
``running`` is a run killed without a word (kill -9, out of memory, a machine that went down).

Rows are keyed as the pipeline's own: a sync that never wrote its row gets a run id of its own; a tenant whose sync
was recorded as a success before the build or publish failed gets ``<its run id>.<stage>``.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from transform.paths import state_dir

# where a run stopped, as sync_runs.stage names it (models/docs.md), in words: dlt's steps, then the run's own
# (sync: somewhere in a tenant's extract, normalize or load; a run killed outright cannot tell which)
STAGE_WORDS = {
    "start": "starting",
    "sync": "syncing",
    "extract": "extracting",
    "normalize": "normalizing",
    "load": "loading",
    "dbt": "building the models",
    "publish": "publishing the analysts' copy",
}
KILLED = "the run ended without a word (killed with SIGKILL, out of memory, or the machine stopped)"


def describe(stage: str, tenant_id: str | None = None) -> str:
    """``loading tenant north``, ``building the models``."""
    words = STAGE_WORDS.get(stage, stage)
    return f"{words} tenant {tenant_id}" if tenant_id and stage in ("sync", "extract", "normalize", "load") else words


def folder(warehouse: Path) -> Path:
    return state_dir(warehouse) / "journal"


def new_run_id(tenant_id: str, started: datetime) -> str:
    """The shape of extract/pipeline.py's run ids."""
    return f"{started:%Y%m%dT%H%M%S}_{tenant_id}_{uuid.uuid4().hex[:8]}"


@dataclass
class Journal:
    """This run's file: which tenants it started, whether each one's row is written, where the run is now."""

    path: Path
    as_of: datetime
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    stage: str = "start"
    tenant_id: str | None = None
    tenants: dict[str, dict[str, Any]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)  # the run's failure lines, once it ended without a stop

    @classmethod
    def begin(cls, warehouse: Path, as_of: datetime) -> Journal:
        """Called holding the run lock: no other run writes this warehouse's journal meanwhile."""
        started = datetime.now(UTC)
        path = folder(warehouse) / f"{started:%Y%m%dT%H%M%S}-{os.getpid()}-{uuid.uuid4().hex[:6]}.json"
        journal = cls(path, as_of, started)
        journal.save()
        return journal

    def at(self, stage: str, tenant_id: str | None = None) -> None:
        self.stage, self.tenant_id = stage, tenant_id
        if tenant_id is not None and tenant_id not in self.tenants:
            self.tenants[tenant_id] = {"run_id": None, "recorded": None}
        self.save()

    def recorded(self, tenant_id: str, run_id: str, status: str | None, failed: tuple[str, str] | None = None) -> None:
        """The tenant's sync ended; ``status`` is what its own run row says, None when it wrote none, and then
        ``failed`` is the (stage, error) that row would have said."""
        entry = {"run_id": run_id, "recorded": status}
        if status is None and failed is not None:
            entry.update(status="failed", stage=failed[0], error=failed[1])
        self.tenants[tenant_id] = entry
        self.save()

    def owed(self, status: str, error: str, finished_at: datetime | None = None) -> list[dict[str, Any]]:
        """The rows this run still owes if it ends now with ``status`` while at its current stage."""
        rows = []
        for tenant_id, entry in self.tenants.items():
            row_status, stage, row_error = status, self.stage, error
            if entry["recorded"] is None and "error" in entry:  # its sync failed and could not write its row
                row_status, stage, row_error = entry["status"], entry["stage"], entry["error"]
                run_id = entry["run_id"]
            elif entry["recorded"] is None:  # stopped during its sync
                run_id = entry["run_id"] or new_run_id(tenant_id, self.started_at)
            elif entry["recorded"] == "success" and self.stage in ("dbt", "publish"):
                run_id = f"{entry['run_id']}.{self.stage}"
            else:
                continue
            rows.append(
                {
                    "run_id": run_id,
                    "tenant_id": tenant_id,
                    "tenant_label": tenant_id,
                    "status": row_status,
                    "stage": stage,
                    "error": row_error,
                    "as_of": self.as_of.isoformat(),
                    "started_at": self.started_at.isoformat(),
                    "finished_at": (finished_at or datetime.now(UTC)).isoformat(),
                }
            )
        return rows

    def close(self, rows: list[dict[str, Any]]) -> None:
        """The run ended: keep what it owes for the next run, or remove the file when it owes nothing."""
        if rows:
            self._write({"rows": rows})
        else:
            self.path.unlink(missing_ok=True)

    def save(self) -> None:
        self._write(
            {
                "pid": os.getpid(),
                "as_of": self.as_of.isoformat(),
                "started_at": self.started_at.isoformat(),
                "stage": self.stage,
                "tenant_id": self.tenant_id,
                "tenants": self.tenants,
            }
        )

    def _write(self, document: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temp = self.path.with_name(self.path.name + ".tmp")
        temp.write_text(json.dumps(document))
        os.replace(temp, self.path)


def left_by_earlier_runs(warehouse: Path, current: Path | None = None) -> dict[Path, list[dict[str, Any]]]:
    """Each journal file earlier runs left, and the rows it stands for (as typed values dlt loads)."""
    found: dict[Path, list[dict[str, Any]]] = {}
    for path in sorted(folder(warehouse).glob("*.json")):
        if path == current:
            continue
        try:
            document = json.loads(path.read_text())
        except (OSError, ValueError):
            path.unlink(missing_ok=True)  # a file cut short by a kill holds nothing to record
            continue
        if "rows" in document:
            rows = document["rows"]
        else:  # still "running": killed without a chance to write its end
            journal = Journal(
                path,
                datetime.fromisoformat(document["as_of"]),
                datetime.fromisoformat(document["started_at"]),
                document.get("stage", "start"),
                document.get("tenant_id"),
                document.get("tenants", {}),
            )
            ended = datetime.fromtimestamp(path.stat().st_mtime, UTC)
            rows = journal.owed("interrupted", f"{KILLED} while {describe(journal.stage, journal.tenant_id)}", ended)
        found[path] = [_typed(row) for row in rows]
    return found


def _typed(row: dict[str, Any]) -> dict[str, Any]:
    return {
        key: datetime.fromisoformat(value) if key in ("as_of", "started_at", "finished_at") and value else value
        for key, value in row.items()
    }
