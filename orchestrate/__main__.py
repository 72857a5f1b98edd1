"""``python -m orchestrate`` (``make orchestrate``): Dagster's UI and daemon on a free 127.0.0.1 port, same warehouse.

Before Dagster starts: the settings and accounts are checked (a bad one stops here, in one line), the dbt project is
parsed (so the UI shows the models as they are now), and the Dagster instance is set up beside the warehouse with the
limits the design relies on (``orchestrate.instance``), unless ``DAGSTER_HOME`` names one of your own.
"""

import argparse
import os
import socket
import sys
from pathlib import Path

from extract import AcuityError
from extract.config import settings_from_env
from orchestrate.instance import instance_home
from transform import warehouse as warehouses
from transform.errors import PipelineError


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m orchestrate", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    parser.add_argument(
        "--prepare", action="store_true", help="check, parse and set up only (before Dagster's own services start)"
    )
    args = parser.parse_args(argv)
    from dagster_dbt.errors import DagsterDbtError

    from orchestrate.build import dbt_project
    from orchestrate.definitions import accounts

    try:
        settings_from_env()
        accounts()
        target = warehouses.current()
        print(f"Parsing the dbt project for {target.describe()} ...", flush=True)
        dbt_project(target, parse=True)
    except (AcuityError, PipelineError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except DagsterDbtError as exc:  # dbt's own lines above say where the project is wrong
        print(f"error: parsing the dbt project failed: {' '.join(str(exc).split())[:300]}", file=sys.stderr)
        return 1
    home = instance_home(target.state_dir)
    if args.prepare:
        print(f"Ready: DAGSTER_HOME={home}")
        return 0
    port = args.port or free_port()
    print(f"Dagster on http://127.0.0.1:{port} (instance {home}); Ctrl-C stops it.", flush=True)
    dagster = str(Path(sys.executable).with_name("dagster"))
    # Dagster takes this process's place, so Ctrl-C reaches it alone and it stops its webserver, daemon and code server
    command = [dagster, "dev", "-m", "orchestrate.definitions", "-h", "127.0.0.1", "-p", str(port)]
    os.execve(dagster, command, {**os.environ, "DAGSTER_HOME": str(home)})


if __name__ == "__main__":
    raise SystemExit(main())
