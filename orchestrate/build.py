"""The dbt project as Dagster assets (dagster-dbt), built once over every tenant, and the analysts' copy after it.

dagster-dbt reads the project's manifest, so the marts' lineage back to the raw tables shows in the UI, and runs
``dbt build`` in a child process (as ``make pipeline`` does, for the same reason: no DuckDB handle left in the
parent). Its manifest and artifacts live in the warehouse's own dbt folder (``transform.paths.dbt_target_dir``), so
two warehouses never share them.
"""

import contextlib
import os
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets

from orchestrate.warehouse import holding
from transform.paths import PROJECT_DIR
from transform.publish import publish, remove_leftovers
from transform.warehouse import Warehouse

# dbt's unit tests check the SQL logic and run in `make test`; a daily build runs the models and their data tests
BUILD = ["build", "--exclude-resource-type", "unit_test"]
ANALYST_COPY = dg.AssetKey("analyst_copy")
DBT = Path(sys.executable).with_name("dbt")  # this interpreter's dbt: the UI may run without the venv on PATH


def dbt_project(target: Warehouse, parse: bool = False) -> DbtProject:
    """The project, its manifest in the warehouse's dbt folder: parsed when missing, or always with ``parse``
    (``python -m orchestrate`` parses at every start, before Dagster's processes, so edits to the models show and no
    two processes parse at once: dagster-dbt's lock then fails all but the first)."""
    project = DbtProject(project_dir=PROJECT_DIR, target_path=target.dbt_target_dir / "dagster")
    if parse or not project.manifest_path.exists():
        # the preparer finds dbt on PATH: this interpreter's, whatever PATH the UI was started with
        with environment({**target.dbt_env(), "PATH": f"{DBT.parent}{os.pathsep}{os.environ.get('PATH', '')}"}):
            project.preparer.prepare(project)
    return project


def dbt_resource(project: DbtProject) -> DbtCliResource:
    return DbtCliResource(project_dir=project, dbt_executable=str(DBT))


def build_assets(project: DbtProject, target: Warehouse, pool: str) -> list[dg.AssetsDefinition]:
    """Every model, seed and data test of the project; on DuckDB also the analysts' copy, published after them."""

    @dbt_assets(
        manifest=project.manifest_path,
        project=project,
        name="dbt_build",
        pool=pool,
        dagster_dbt_translator=LayerTranslator(),
    )
    def dbt_build(context: dg.AssetExecutionContext, dbt: DbtCliResource) -> Iterator[Any]:
        with holding(target, context.log.info):  # the whole build: dbt's child writes while the events stream
            # DBT_TARGET_PATH: where dagster-dbt finds the parse to start the build's partial parse from
            with environment({**target.dbt_env(), "DBT_TARGET_PATH": str(project.target_path)}):
                invocation = dbt.cli(BUILD, context=context, target_path=project.target_path / "build")
            yield from invocation.stream()

    if target.target != "duckdb":  # a server warehouse is read where it is: nothing to publish
        return [dbt_build]
    marts = [key for key in dbt_build.keys if key.path[0] == "marts"]

    @dg.asset(key=ANALYST_COPY, deps=marts, pool=pool, kinds={"duckdb"}, group_name="analysts")
    def analyst_copy(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        """The read-only copy analysts open (``make sql``), replaced atomically after a green build."""
        with holding(target, context.log.info):
            for leftover in remove_leftovers(target.path):
                context.log.info(f"Removed {leftover.name}, left by a run killed while publishing")
            published = publish(target.path)
        return dg.MaterializeResult(
            metadata={"path": str(published), "bytes": dg.MetadataValue.int(published.stat().st_size)}
        )

    return [dbt_build, analyst_copy]


class LayerTranslator(DagsterDbtTranslator):
    """Groups each node by its schema (``staging``, ``intermediate``, ``marts``, ``reference``), the key's first part
    (dagster-dbt keys a node ``<schema>/<name>``; the raw tables are ``acuity/<table>``)."""

    def get_asset_spec(self, manifest: Mapping[str, Any], unique_id: str, project: DbtProject | None) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        return spec.replace_attributes(group_name=spec.key.path[0]) if len(spec.key.path) > 1 else spec


@contextlib.contextmanager
def environment(values: Mapping[str, str]) -> Iterator[None]:
    """``values`` in the environment while dbt's child starts (dagster-dbt hands it this process's environment):
    profiles.yml reads the warehouse from there, as it does under ``make pipeline``."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
