"""The physical floor of a sync: the same HTTP requests with nothing done to the bodies, and DuckDB's own JSON load.

(a) replays the pipeline's request log (every request the sandbox answered 200) with a plain ``requests`` session
and streams each body to a file without parsing it; (b) loads those files with DuckDB's ``read_json`` into a fresh
database. A pipeline cannot do less work than (a) + (b) for the same data, so its time divided by theirs is the
overhead worth attacking, and (a) alone is the sandbox's serving throughput.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import duckdb
import requests

CHUNK = 1 << 20
API_PREFIX = "/api/v1/"


@dataclass
class FetchFloor:
    seconds: float
    requests: int
    bytes: int
    files: dict[str, list[Path]] = field(default_factory=dict)  # endpoint -> one file per response, in order


@dataclass
class LoadFloor:
    seconds: float
    rows: dict[str, int]
    options: str


def endpoint_of(target: str) -> str:
    """``/api/v1/appointments?max=…`` -> ``appointments`` (``appointment-types`` -> ``appointment_types``)."""
    path = urlsplit(target).path
    return path.removeprefix(API_PREFIX).strip("/").replace("-", "_").replace("/", "_") or "root"


def replay(base_url: str, auth: tuple[str, str], targets: list[str], out_dir: Path, timeout: float) -> FetchFloor:
    """Fetch every target again, in order, one connection, bodies to disk unparsed; the floor of extraction."""
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(base_url))
    files: dict[str, list[Path]] = defaultdict(list)
    total = 0
    out_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with requests.Session() as session:
        session.auth = auth
        for number, target in enumerate(targets):
            name = endpoint_of(target)
            path = out_dir / f"{name}_{number:06d}.json"
            with session.get(origin + target, stream=True, timeout=timeout) as response:
                response.raise_for_status()
                with path.open("wb") as body:
                    for chunk in response.iter_content(CHUNK):
                        body.write(chunk)
                        total += len(chunk)
            files[name].append(path)
    return FetchFloor(time.perf_counter() - started, len(targets), total, dict(files))


def duckdb_load(files: dict[str, list[Path]], database: Path) -> LoadFloor:
    """One table per endpoint from its response files with ``read_json``; the floor of normalize + load.

    Appointments load every page (the pipeline loads them all); an endpoint asked several times (orders, re-asked
    with a larger ``max``) loads only its last answer, which is the one the pipeline keeps.
    """
    started = time.perf_counter()
    rows: dict[str, int] = {}
    options = "format='auto'"
    connection = duckdb.connect(str(database))
    try:
        for name, paths in files.items():
            chosen = paths if name == "appointments" else paths[-1:]
            listing = ", ".join("'" + str(p).replace("'", "''") + "'" for p in chosen)
            try:
                connection.execute(f'create table "{name}" as select * from read_json([{listing}], {options})')
            except duckdb.Error:
                # type inference samples 20k rows: a column that turns up later needs the whole file sampled
                options = "format='auto', sample_size=-1, union_by_name=true"
                query = f'create or replace table "{name}" as select * from read_json([{listing}], {options})'
                connection.execute(query)
            rows[name] = connection.execute(f'select count(*) from "{name}"').fetchone()[0]
        connection.execute("checkpoint")
    finally:
        connection.close()
    return LoadFloor(time.perf_counter() - started, rows, options)
