"""`make docs`: dbt docs generate on a synced warehouse documents every model and every column it builds."""

from __future__ import annotations

import json

from helpers import Env

from transform import warehouse as warehouses
from transform.dbt import run_dbt, target_path


def test_every_model_and_column_in_the_catalog_is_documented(synced_env: Env) -> None:
    outcome = run_dbt(["docs", "generate"], warehouses.current())

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
