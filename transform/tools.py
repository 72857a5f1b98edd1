"""The analyst-facing commands: dbt docs, a read-only SQL shell and the ready analyses, all on the analysts' copy.

``python -m transform.tools analysis NAME… [duckdb CLI flags]`` (``make analysis NAME=…``) compiles analyses/NAME.sql
with dbt (no warehouse needed: compiling reads only the project) and runs it with the DuckDB CLI on the published,
read-only ``analyst.duckdb``, so it works while a sync runs and shows exactly what an analyst's own session would.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from transform import paths
from transform import warehouse as warehouses
from transform.dbt import run_dbt
from transform.errors import PipelineError
from transform.paths import PROJECT_DIR, analyst_path, published_warehouse
from transform.publish import exclusive_run

ANALYSES_DIR = PROJECT_DIR / "analyses"
MARTS = (
    "appointments, future_appointments, orders, contacts, contact_revenue, revenue_reconciliation,"
    " contact_identifiers, appointment_form_answers, appointment_labels, sync_runs, sync_metrics, sync_freshness,"
    " last_run_changes, rejected_records"
)


def _require(path: Path) -> Path:
    if not path.exists():
        raise PipelineError(f"no warehouse at {path}: run `make pipeline` first")
    return path


def _published() -> warehouses.Warehouse:
    """The warehouse whose copy analysts read: the real account's once published, else the embedded demo's."""
    return warehouses.current(demo=published_warehouse() == paths.warehouse_path(demo=True))


def serve_docs(port: int) -> int:
    """``dbt docs generate`` (under the pipeline's lock: it reads the catalog of the private warehouse), also as one
    self-contained file (``--static``), then ``dbt docs serve`` on 127.0.0.1:port, which only serves the files."""
    warehouse = warehouses.current()
    if warehouse.target == "duckdb":
        warehouse = _published()
    with exclusive_run(warehouse.path):
        if warehouse.target == "duckdb":
            _require(warehouse.path)
        outcome = run_dbt(["docs", "generate", "--static"], warehouse)
    if not outcome.success:
        raise PipelineError("dbt docs generate failed: " + "; ".join(outcome.failures))
    print(f"Offline copy (one file): {warehouse.dbt_target_dir / 'static_index.html'}")
    print(f"Serving dbt docs on http://127.0.0.1:{port} (Ctrl-C to stop)")
    outcome = run_dbt(["docs", "serve", "--host", "127.0.0.1", "--port", str(port), "--no-browser"], warehouse)
    return 0 if outcome.success else 1


def duckdb_cli() -> str:
    """The DuckDB CLI installed with the project (duckdb-cli, same version as the library), else one on PATH."""
    cli = shutil.which("duckdb", path=str(Path(sys.executable).parent)) or shutil.which("duckdb")
    if cli is None:
        raise PipelineError("the duckdb CLI is missing: run `make sql` (it installs duckdb-cli into .venv)")
    return cli


def sql_shell() -> int:
    """Replace this process with the DuckDB CLI on the analysts' published copy, read-only."""
    warehouse = _require(analyst_path(published_warehouse()))
    cli = duckdb_cli()
    print(f"Warehouse {warehouse} (read-only{which_copy()}). Marts (schema marts): {MARTS}.")
    print("Ready queries: `make analysis NAME=<file in analyses/>`. .quit leaves.")
    os.chdir(PROJECT_DIR)
    os.execv(cli, [cli, "-readonly", str(warehouse)])
    return 0  # not reached


def which_copy() -> str:
    """``, the embedded demo's: …`` when the demo's copy is the one opened, so the switch is never silent."""
    if published_warehouse() != paths.warehouse_path(demo=True):
        return ""
    return (
        ", the embedded demo's: no real account has been published yet; ACUITY_WAREHOUSE=<its acuity.duckdb> opens"
        " another"
    )


def available_analyses() -> list[str]:
    return sorted(path.stem for path in ANALYSES_DIR.glob("*.sql"))


def run_analyses(names: list[str], cli_flags: list[str]) -> int:
    """Compile the named analyses (``all`` for every one) in one dbt call and run each on the analysts' copy."""
    available = available_analyses()
    names = available if names == ["all"] else names
    unknown = [name for name in names if name not in available]
    if not names or unknown:
        wrong = f"no analysis {', '.join(unknown)}: " if unknown else "name an analysis: "
        raise PipelineError(wrong + "choose from " + ", ".join(available) + " (or all)")
    warehouse = warehouses.current()
    if warehouse.target == "duckdb":
        warehouse = _published()
        copy = _require(analyst_path(warehouse.path))
    with _stdout_to_devnull():  # dbt compile previews the compiled SQL; the result is what the reader wants
        outcome = run_dbt(["compile", "--no-populate-cache", "--select", *names], warehouse)
    if not outcome.success:
        raise PipelineError("dbt compile failed: " + "; ".join(outcome.failures))
    compiled = warehouse.dbt_target_dir / "compiled" / "acuity" / "analyses"
    if warehouse.target != "duckdb":
        for name in names:
            print(f"{name}: {compiled / f'{name}.sql'} (run it with psql on the server)")
        return 0
    cli = duckdb_cli()
    status = 0
    for name in names:
        if len(names) > 1:
            print(f"-- {name}", flush=True)
        sql = (compiled / f"{name}.sql").read_text()
        status = status or subprocess.run([cli, "-readonly", *cli_flags, str(copy)], input=sql, text=True).returncode
    return status


@contextlib.contextmanager
def _stdout_to_devnull() -> Iterator[None]:
    """Silence what a child process (dbt's) writes to our stdout, at the file-descriptor level it inherits."""
    sys.stdout.flush()
    saved = os.dup(1)
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 1)
        try:
            yield
        finally:
            os.dup2(saved, 1)
            os.close(saved)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] != "analysis":
        print("usage: python -m transform.tools analysis NAME… [duckdb CLI flags such as -csv]", file=sys.stderr)
        return 2
    names = [arg for arg in args[1:] if not arg.startswith("-")]
    flags = [arg for arg in args[1:] if arg.startswith("-")]
    try:
        return run_analyses(names, flags)
    except PipelineError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
