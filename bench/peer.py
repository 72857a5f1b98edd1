"""The peer: dlt's generic ``rest_api`` source, configured the way a generic Acuity connector would be.

One request per endpoint with ``max=100000`` (what other connectors use), no date-window splitting, parquet into
DuckDB. Run as its own process by the bench (``python -m bench.peer``) so its wall time and RSS are its own; it
prints one JSON line with the rows it loaded per table, so the bench can say how many it missed to truncation.
Configuration through dlt's documented ``rest_api_source`` dict, nothing patched.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

MAX = 100_000
TABLES = ("appointments", "clients", "orders")


def config(base_url: str, user_id: str, api_key: str, since: str) -> dict[str, Any]:
    def resource(name: str, path: str, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "name": name,
            "endpoint": {"path": path, "params": params, "paginator": "single_page", "data_selector": "$"},
            "write_disposition": "replace",
        }

    return {
        "client": {
            "base_url": base_url.rstrip("/") + "/",
            "auth": {"type": "http_basic", "username": user_id, "password": api_key},
        },
        "resources": [
            resource("appointments", "appointments", {"max": MAX, "minDate": since, "showall": "true"}),
            resource("clients", "clients", {}),
            resource("orders", "orders", {"max": MAX}),
        ],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.peer")
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--since", required=True)
    parser.add_argument("--database", type=Path, required=True)
    args = parser.parse_args(argv)
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
    os.environ["DLT_DATA_DIR"] = str(args.database.parent / "peer-dlt")
    import dlt
    from dlt.sources.rest_api import rest_api_source

    source = rest_api_source(
        config(args.base_url, os.environ["ACUITY_USER_ID"], os.environ["ACUITY_API_KEY"], args.since)
    )
    pipeline = dlt.pipeline(
        pipeline_name="peer_rest_api",
        destination=dlt.destinations.duckdb(str(args.database)),
        dataset_name="raw",
        pipelines_dir=str(args.database.parent / "peer-pipelines"),
    )
    pipeline.run(source, loader_file_format="parquet")
    import duckdb

    with duckdb.connect(str(args.database), read_only=True) as connection:
        rows = {t: connection.execute(f"select count(*) from raw.{t}").fetchone()[0] for t in TABLES}
    print(json.dumps({"rows": rows}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
