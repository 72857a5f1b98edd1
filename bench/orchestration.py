"""``make bench ARGS="--orchestrate 4"``: N sandbox tenants under Dagster, runs at once against one after another.

Three ways to sync, build and publish the same N seed-shaped accounts, each into its own warehouse: today's
``python -m transform --tenants`` (one process, tenants one after another), Dagster with one run per tenant started one
after another, and Dagster with all N runs started at once (as the daily schedule does; the one-writer pool then lets
one sync at a time write the DuckDB warehouse). Each Dagster run is its own process, as the UI launches it. The
sandbox answers in milliseconds, so ``--latency`` delays every answer to stand for the network to Acuity. With
``--postgres URL`` the three write to PostgreSQL instead (a database each, created and dropped on that server), where
the syncs are in no pool and run in parallel.
"""

import contextlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import dagster as dg
import duckdb

from bench.sizes import AS_OF
from orchestrate.definitions import BUILD_JOB
from orchestrate.instance import instance_home
from sandbox import Fault, SandboxServer, build_account
from transform.paths import PROJECT_DIR, analyst_path, state_dir

BIN = Path(sys.executable).parent
TIMEOUT = 900  # seconds any one child may take: a hung run fails the bench instead of hanging it
_DONE = re.compile(r"Done in ([\d.]+) s \(dbt ([\d.]+) s\)")


def measure(tenants: int, latency: float, keep: bool = False, postgres: str | None = None) -> dict[str, Any]:
    """Wall seconds of the syncs and of the build (dbt + publish) for each way; the work folder is removed unless
    ``keep``. ``postgres``: a server URL whose user may create databases."""
    work = Path(tempfile.mkdtemp(prefix="acuity-bench-orchestration-"))
    ids = [f"t{n}" for n in range(1, tenants + 1)]
    accounts = {str(n): (f"key-{n}", build_account("seed", n, AS_OF)) for n in range(1, tenants + 1)}
    try:
        with SandboxServer(accounts) as server:
            if latency:
                server.inject(Fault(status=200, times=10**9, delay=latency))  # every answer, this much later
            tenants_file = work / "tenants.toml"
            tenants_file.write_text(
                "".join(f'[tenants.t{n}]\nuser_id = "{n}"\nbase_url = "{server.base_url}"\n' for n in accounts)
            )
            env = {k: v for k, v in os.environ.items() if not k.startswith("ACUITY_") and k != "DAGSTER_HOME"}
            env.update({f"ACUITY_API_KEY_T{n}": key for n, (key, _) in accounts.items()})
            env.update(ACUITY_TENANTS_FILE=str(tenants_file), ACUITY_AS_OF=AS_OF.isoformat(), DO_NOT_TRACK="1")
            env.update(RUNTIME__DLTHUB_TELEMETRY="false", DBT_SEND_ANONYMOUS_USAGE_STATS="false")
            ways = {
                "python -m transform --tenants (one after another)": lambda e: _transform(work / "transform", e),
                "Dagster, one run after another": lambda e: _dagster(work / "serial", e, ids, at_once=False),
                "Dagster, all runs at once": lambda e: _dagster(work / "parallel", e, ids, at_once=True),
            }
            results = {}
            for n, (way, measured) in enumerate(ways.items()):
                with _database(postgres, f"acuity_bench_{n}") as url:
                    target = {"ACUITY_TARGET": "postgres", "ACUITY_POSTGRES_URL": url} if url else {}
                    results[way] = measured({**env, **target})
                    landed = _tenants_landed(Path(results[way].pop("warehouse")), url)
                if landed != tenants:
                    raise RuntimeError(f"{way}: {landed} of {tenants} tenants reached the marts")
        target = "postgres" if postgres else "duckdb"
        return {"tenants": tenants, "latency_seconds": latency, "target": target, "ways": results}
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)


@contextlib.contextmanager
def _database(server: str | None, name: str) -> Iterator[str | None]:
    """A fresh database on the server for one way (None: DuckDB), dropped afterwards."""
    if server is None:
        yield None
        return
    import psycopg2

    admin = psycopg2.connect(server)
    admin.autocommit = True
    try:
        with admin.cursor() as cursor:
            cursor.execute(f"drop database if exists {name} with (force)")
            cursor.execute(f"create database {name}")
        try:
            yield urlunsplit(urlsplit(server)._replace(path=f"/{name}"))
        finally:
            with admin.cursor() as cursor:
                cursor.execute(f"drop database if exists {name} with (force)")
    finally:
        admin.close()


def _run(command: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(command, env=env, cwd=PROJECT_DIR, capture_output=True, text=True, timeout=TIMEOUT)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:4])} failed:\n{(done.stdout + done.stderr)[-3000:]}")
    return done.stdout + done.stderr


def _transform(folder: Path, env: dict[str, str]) -> dict[str, Any]:
    warehouse = folder / "acuity.duckdb"
    started = time.perf_counter()
    output = _run([str(BIN / "python"), "-m", "transform"], {**env, "ACUITY_WAREHOUSE": str(warehouse)})
    wall = time.perf_counter() - started
    done = _DONE.search(output)
    dbt = float(done.group(2)) if done else float("nan")
    return {"warehouse": str(warehouse), "syncs": wall - dbt, "build": dbt, "total": wall}


def _dagster(folder: Path, env: dict[str, str], ids: list[str], at_once: bool) -> dict[str, Any]:
    """Each tenant's partition as its own ``dagster`` process (what a run is), then the build job."""
    warehouse = folder / "acuity.duckdb"
    env = {**env, "ACUITY_WAREHOUSE": str(warehouse)}
    _run([str(BIN / "python"), "-m", "orchestrate", "--prepare"], env)  # once per deployment, not per day
    env["DAGSTER_HOME"] = str(instance_home(state_dir(warehouse)))
    with dg.DagsterInstance.from_config(env["DAGSTER_HOME"]):
        pass  # its storage is created here, not by two runs racing to create it
    materialize = [str(BIN / "dagster"), "asset", "materialize", "-m", "orchestrate.definitions"]
    started = time.perf_counter()
    if at_once:
        processes = [
            subprocess.Popen(
                [*materialize, "--select", "group:acuity", "--partition", tenant],
                env=env,
                cwd=PROJECT_DIR,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            for tenant in ids
        ]
        for process in processes:
            output = process.communicate(timeout=TIMEOUT)[0]
            if process.returncode != 0:
                raise RuntimeError(f"a Dagster run failed:\n{output[-3000:]}")
    else:
        for tenant in ids:
            _run([*materialize, "--select", "group:acuity", "--partition", tenant], env)
    synced = time.perf_counter()
    _run([str(BIN / "dagster"), "job", "execute", "-m", "orchestrate.definitions", "-j", BUILD_JOB], env)
    built = time.perf_counter()
    return {"warehouse": str(warehouse), "syncs": synced - started, "build": built - synced, "total": built - started}


def _tenants_landed(warehouse: Path, postgres: str | None) -> int:
    """Tenants in the analysts' copy (DuckDB) or the marts (PostgreSQL, read where they are)."""
    sql = "select count(distinct tenant_id) from marts.sync_metrics"
    if postgres is None:
        with duckdb.connect(str(analyst_path(warehouse)), read_only=True) as connection:
            return connection.execute(sql).fetchone()[0]
    import psycopg2

    with psycopg2.connect(postgres) as connection, connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchone()[0]


def markdown(result: dict[str, Any]) -> str:
    lines = [
        f"| {result['tenants']} tenants into {result['target']}, every answer {result['latency_seconds']:g} s late"
        " | syncs | build + publish | total |",
        "| --- | --- | --- | --- |",
    ]
    for way, figures in result["ways"].items():
        lines.append(f"| {way} | {figures['syncs']:.1f} s | {figures['build']:.1f} s | {figures['total']:.1f} s |")
    return "\n".join(lines) + "\n"
