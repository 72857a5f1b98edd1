"""`make docs`: dbt docs generate on a synced warehouse documents every model and every column it builds."""

from __future__ import annotations

import json
import re
import subprocess

from helpers import Env

from transform import warehouse as warehouses
from transform.dbt import run_dbt, target_path
from transform.paths import PROJECT_DIR


def test_every_model_and_column_in_the_catalog_is_documented(synced_env: Env) -> None:
    outcome = run_dbt(["docs", "generate", "--static"], warehouses.current())

    assert outcome.success, outcome.failures
    manifest = json.loads((target_path() / "manifest.json").read_text())
    catalog = json.loads((target_path() / "catalog.json").read_text())
    undocumented = []
    for unique_id, node in catalog["nodes"].items():
        documented = manifest["nodes"][unique_id]
        if not documented.get("description"):
            undocumented.append(unique_id)
        described = {name for name, column in documented["columns"].items() if column.get("description")}
        undocumented += [f"{unique_id}.{c}" for c in node["columns"] if c.lower() not in described]
    assert undocumented == []
    assert {"exposure.acuity.acuity_report"} <= set(manifest["exposures"])
    models = {n["name"] for n in manifest["nodes"].values() if n["resource_type"] == "model"}
    assert {"future_appointments", "contacts", "contact_revenue", "sync_metrics", "rejected_records"} <= models
    assert {"appointments", "orders", "revenue_reconciliation", "sync_runs", "appointment_form_answers"} <= models
    # the overview page replaces dbt's welcome, and one self-contained file opens offline
    overview = manifest["docs"]["doc.acuity.__overview__"]["block_contents"]
    assert "What each mart answers" in overview and "How the totals reconcile" in overview
    static = (target_path() / "static_index.html").read_text()
    assert "What each mart answers" in static
    assert not re.search(r"<(script|link)\b[^>]*\b(src|href)\s*=\s*[\"']?(https?:)?//", static, re.IGNORECASE)


def test_make_docs_and_make_sandbox_default_to_different_ports() -> None:
    """Both can run at once: `make -n` shows the command each would run."""
    ports = {}
    for target in ("docs", "sandbox"):
        command = subprocess.run(
            ["make", "-n", "--no-print-directory", target], cwd=PROJECT_DIR, capture_output=True, text=True, check=True
        ).stdout
        ports[target] = re.search(r"--port (\d+)", command).group(1)
    assert ports["docs"] != ports["sandbox"]
