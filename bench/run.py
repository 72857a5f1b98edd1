"""``make bench``: sync accounts of several sizes and measure each sync against its physical floor and a peer.

Per size: a standalone server process serving the sandbox's account as pre-serialised bytes (``bench.static``,
captured once into a cache directory; ``--sandbox-server`` serves from the sandbox instead); a first full sync
(backfill) and a no-change daily sync, each a child ``python -m transform`` with its own warehouse, timed by stage
from its run row, with peak RSS, HTTP requests vs the minimum for the data at the configured page ceiling, and the
floor of the same work (plain fetch of the same URLs from the same fast server + DuckDB ``read_json`` of the same
bodies); the same daily again on a warehouse whose history is only that daily's window (``measure_history``: what
history costs a daily run); then the peer, dlt's generic ``rest_api`` source, on the same server (``bench.peer``).
Results go to ``bench/results/latest.json`` and ``latest.md``; the table is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import tempfile
import time
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from bench import floor, machine, report
from bench.procs import run_measured
from bench.sandbox_proc import SandboxProcess
from bench.sizes import AS_OF, SINCE, Size, parse_sizes
from extract.paging import APPOINTMENTS_PER_ANSWER
from transform.paths import PROJECT_DIR

# Settings a caller may want to benchmark pass through; every other ACUITY_* is the bench's to set.
PASS_THROUGH = ("ACUITY_PAGE_SIZE", "ACUITY_PAGE_CEILING", "ACUITY_LOOKBACK_DAYS", "ACUITY_HORIZON_DAYS")
DEFAULT_CEILING = 100_000  # extract.paging.DEFAULT_PAGE_CEILING, the pipeline's default when the setting is unset
OTHER_ENDPOINTS = ("me", "calendars", "appointment_types", "addons", "clients", "certificates")
_DONE = re.compile(r"Done in ([\d.]+) s \(dbt ([\d.]+) s\)")


def child_env(sandbox: SandboxProcess, work: Path, since: date = SINCE) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACUITY_") or k in PASS_THROUGH}
    env.update(
        ACUITY_BASE_URL=sandbox.limited_url,
        ACUITY_USER_ID=sandbox.user_id,
        ACUITY_API_KEY=sandbox.api_key,
        ACUITY_SINCE=since.isoformat(),
        ACUITY_WAREHOUSE=str(work / "acuity.duckdb"),
        ACUITY_DLT_DIR=str(work / "dlt"),
        ACUITY_DBT_TARGET_PATH=str(work / "target"),
        RUNTIME__DLTHUB_TELEMETRY="false",
        DBT_SEND_ANONYMOUS_USAGE_STATS="false",
        DO_NOT_TRACK="1",
    )
    return env


def read_run_row(warehouse: Path, started_after: float) -> dict[str, Any] | None:
    """The run row this sync appended (None if it never got that far)."""
    return _first_row(
        warehouse,
        "select * from raw_acuity.sync_runs where epoch(started_at) >= ? order by started_at desc limit 1",
        [started_after - 1],
    )


def _first_row(warehouse: Path, sql: str, parameters: list[Any] | None = None) -> dict[str, Any] | None:
    """The first row of a query on a sync's warehouse, by column name; None when the file or the table is not there
    (a sync that failed before writing it)."""
    if not warehouse.exists():
        return None
    connection = duckdb.connect(str(warehouse), read_only=True)
    try:
        cursor = connection.execute(sql, parameters)
        row = cursor.fetchone()
        return dict(zip([d[0] for d in cursor.description], row, strict=True)) if row else None
    except duckdb.Error:
        return None
    finally:
        connection.close()


def minimum_requests(row: dict[str, Any], ceiling: int, memory_bound: bool = True) -> int:
    """Requests a perfect client needs to read the same data completely with ``max`` at most ``ceiling``.

    Acuity truncates silently, so only an answer shorter than ``max`` proves a read complete: appointments take ``rows
    // per_answer + 1`` answers (100,000 rows at a 100,000 ceiling take two; ``per_answer`` is the ceiling, but at
    most ``extract.paging.APPOINTMENTS_PER_ANSWER``, the pipeline's memory bound per answer), orders one
    (``/orders`` has no window: one answer below the ceiling or none at all), every other list one, and a slice of
    older history re-read for reconciliation (``reconcile_first`` set, where the run row has it) one more. The
    appointment rows include those of the pad days (``appointments_edge_overlap``): a client that cannot know which
    zone Acuity compares ``minDate`` in must read them too (``extract.paging``). ``memory_bound=False``: the minimum
    of a client that would take a whole answer up to the ceiling, whatever its size (the issue's strict reading)."""
    rows = (row.get("fetched_appointments") or 0) + (row.get("appointments_edge_overlap") or 0)
    appointments = rows // (min(ceiling, APPOINTMENTS_PER_ANSWER) if memory_bound else ceiling) + 1
    reconcile = 1 if row.get("reconcile_first") else 0
    return appointments + reconcile + len(OTHER_ENDPOINTS) + 1


def measure_sync(
    kind: str,
    size: Size,
    sandbox: SandboxProcess,
    work: Path,
    page_ceiling: int,
    since: date = SINCE,
    floor_too: bool = True,
) -> dict[str, Any]:
    """One ``python -m transform`` child, its run row, the sandbox's log of it, and (``floor_too``) the floor of the
    same work."""
    env = child_env(sandbox, work, since)
    started = time.time()
    child = run_measured(
        [sys.executable, "-m", "transform", "--as-of", AS_OF.isoformat()],
        env=env,
        cwd=PROJECT_DIR,
        timeout=size.timeout_seconds,
        log_path=work / f"{kind}.log",
    )
    row = read_run_row(work / "acuity.duckdb", started) or {}
    log = sandbox.request_log(work / f"{kind}.requests.json")
    done = _DONE.search(child.log_path.read_text(errors="replace"))
    fetched = {k.removeprefix("fetched_"): v or 0 for k, v in row.items() if k.startswith("fetched_")}
    rows_total = sum(fetched.values())
    stages = [row.get(f"{s}_seconds") for s in ("extract", "normalize", "load")]
    sync_seconds = sum(stages) if all(v is not None for v in stages) else None
    requests_made = row.get("http_requests") if row else len(log)
    minimum = minimum_requests(row, page_ceiling) if row else None
    bare_minimum = minimum_requests(row, page_ceiling, memory_bound=False) if row else None
    ok = child.returncode == 0 and row.get("status") == "success"
    result: dict[str, Any] = {
        "ok": ok,
        "returncode": child.returncode,
        "timed_out": child.timed_out,
        "error": None if ok else (row.get("error") or f"exit {child.returncode}: {child.tail(5)}"),
        "run_id": row.get("run_id"),
        "window": [str(row.get("window_first")), str(row.get("window_last"))],
        "wall_seconds": child.wall_seconds,
        "cpu_seconds": child.cpu_seconds,
        "extract_seconds": stages[0],
        "normalize_seconds": stages[1],
        "load_seconds": stages[2],
        "sync_seconds": sync_seconds,
        "run_row_duration_seconds": row.get("duration_seconds"),
        "http_seconds": row.get("http_seconds"),
        "dbt_seconds": float(done.group(2)) if done else None,
        "peak_rss_bytes": child.peak_rss,
        "peak_rss_dbt_bytes": child.peak_rss_descendants,
        "peak_rss_tree_bytes": child.peak_rss_tree,
        "rows_fetched": fetched,
        "rows_total": rows_total,
        "rows_per_second": rows_total / child.wall_seconds if child.wall_seconds else None,
        "rows_per_sync_second": rows_total / sync_seconds if sync_seconds else None,
        "http": {
            "requests": requests_made,
            "sandbox_logged": len(log),
            "http_bytes": row.get("http_bytes"),
            "statuses": row.get("http_statuses"),
            "http_429": row.get("http_429", sum(1 for _, _, s in log if s == 429)),
            "minimum": minimum,
            "ratio": requests_made / minimum if minimum and requests_made is not None else None,
            "page_ceiling": page_ceiling,
            "by_endpoint": dict(Counter(floor.endpoint_of(t) for _, t, _ in log)),
            "minimum_without_memory_bound": bare_minimum,
            "ratio_without_memory_bound": (
                requests_made / bare_minimum if bare_minimum and requests_made is not None else None
            ),
        },
        "floor": {},
    }
    if ok and floor_too:
        result["floor"] = measure_floor(kind, size, sandbox, log, work, sync_seconds, rows_total)
    return result


def measure_floor(
    kind: str,
    size: Size,
    sandbox: SandboxProcess,
    log: list[tuple[str, str, int]],
    work: Path,
    sync_seconds: float | None,
    rows: int,
) -> dict[str, Any]:
    targets = [target for method, target, status in log if method == "GET" and status == 200]
    bodies = work / f"floor-{kind}"
    fetched = floor.replay(sandbox.open_url, (sandbox.user_id, sandbox.api_key), targets, bodies, size.timeout_seconds)
    loaded = floor.duckdb_load(fetched.files, work / f"floor-{kind}.duckdb")
    shutil.rmtree(bodies, ignore_errors=True)  # the large account's bodies are ~1 GB
    (work / f"floor-{kind}.duckdb").unlink(missing_ok=True)
    total = fetched.seconds + loaded.seconds
    return {
        "fetch_seconds": fetched.seconds,
        "fetch_requests": fetched.requests,
        "fetch_bytes": fetched.bytes,
        "fetch_rows_per_second": rows / fetched.seconds if fetched.seconds else None,
        "fetch_mb_per_second": fetched.bytes / 1e6 / fetched.seconds if fetched.seconds else None,
        "load_seconds": loaded.seconds,
        "load_rows": loaded.rows,
        "load_options": loaded.options,
        "floor_seconds": total,
        "pipeline_over_floor": sync_seconds / total if sync_seconds and total else None,
    }


def measure_repeated(
    kind: str, size: Size, sandbox: SandboxProcess, work: Path, page_ceiling: int, **options: Any
) -> dict[str, Any]:
    """The sync ``size.daily_runs`` times for the daily kind (once for the backfill): the run with the median wall
    time, with every run's wall time alongside. ``options`` go to ``measure_sync``."""
    runs = []
    for _ in range(size.daily_runs if "daily" in kind else 1):
        runs.append(measure_sync(kind, size, sandbox, work, page_ceiling, **options))
        if not runs[-1]["ok"]:
            return runs[-1]
    runs.sort(key=lambda run: run["wall_seconds"])
    return {**runs[len(runs) // 2], "wall_seconds_all": [run["wall_seconds"] for run in runs]}


def measure_history(size: Size, sandbox: SandboxProcess, work: Path, page_ceiling: int, since: date) -> dict[str, Any]:
    """The same no-change daily sync on a warehouse whose history is only the daily's own window: a backfill
    ``since`` the first day the measured daily re-read (its run row's ``window_first``), then the daily. Same
    account, server and window, so whatever it costs less is what the whole history costs every day (the 1M target:
    "the daily run's cost grows with the live window, not with history")."""
    short = work / "window-only"
    short.mkdir()
    backfill = measure_sync("window-only-backfill", size, sandbox, short, page_ceiling, since=since, floor_too=False)
    body: dict[str, Any] = {"since": since.isoformat(), "backfill_ok": backfill["ok"], "error": backfill["error"]}
    if backfill["ok"]:
        body["daily"] = measure_repeated(
            "window-only-daily", size, sandbox, short, page_ceiling, since=since, floor_too=False
        )
        body["error"] = body["daily"]["error"]
    body["appointment_versions"] = {
        "whole history": _appointment_versions(work / "acuity.duckdb"),
        "window only": _appointment_versions(short / "acuity.duckdb"),
    }
    return body


def _appointment_versions(warehouse: Path) -> int | None:
    """Appointment rows (every version) in a warehouse's raw layer: how much history its daily runs stand on."""
    counted = _first_row(warehouse, "select count(*) as versions from raw_acuity.appointments")
    return counted["versions"] if counted else None


# `dbt parse` through the pipeline's own dbt child: start, import dbt, parse the project (partial parse, as in a sync)
_DBT_PARSE = "from transform.dbt import run_dbt; from transform.warehouse import current; run_dbt(['parse'], current())"


def measure_dbt_fixed_cost(sandbox: SandboxProcess, work: Path) -> float | None:
    """Seconds dbt needs before its first model can run, in a fresh child on this warehouse: the share of every
    sync's dbt step that no change to the models or the extract can remove."""
    child = run_measured(
        [sys.executable, "-c", _DBT_PARSE],
        env=child_env(sandbox, work),
        cwd=PROJECT_DIR,
        timeout=120,
        log_path=work / "dbt-parse.log",
    )
    return child.wall_seconds if child.returncode == 0 else None


def measure_peer(size: Size, sandbox: SandboxProcess, work: Path, truth: dict[str, int]) -> dict[str, Any]:
    """dlt's generic ``rest_api`` source on the same server (rate-limited, like the syncs), in its own process."""
    env = {**child_env(sandbox, work), "PYTHONUNBUFFERED": "1"}
    child = run_measured(
        [
            sys.executable,
            "-m",
            "bench.peer",
            "--base-url",
            sandbox.limited_url,
            "--since",
            SINCE.isoformat(),
            "--database",
            str(work / "peer.duckdb"),
        ],
        env=env,
        cwd=PROJECT_DIR,
        timeout=size.timeout_seconds,
        log_path=work / "peer.log",
    )
    log = sandbox.request_log(work / "peer.requests.json")
    lines = [line for line in child.log_path.read_text(errors="replace").splitlines() if line.startswith('{"rows"')]
    rows = json.loads(lines[-1])["rows"] if lines and child.returncode == 0 else {}
    return {
        "ok": bool(rows),
        "error": None if rows else f"exit {child.returncode}: {child.tail(3)}",
        "wall_seconds": child.wall_seconds,
        "cpu_seconds": child.cpu_seconds,
        "peak_rss_bytes": child.peak_rss_tree,
        "requests": len(log),
        "http_429": sum(1 for _, _, status in log if status == 429),
        "rows": rows,
        "missed": {name: truth[name] - rows.get(name, 0) for name in truth} if rows else {},
    }


def account_truth(cache: Path) -> dict[str, int]:
    """Rows the captured account holds: what a complete read of it loads."""
    lines = {name: sum(1 for _ in (cache / f"{name}.jsonl").open("rb")) for name in ("appointments", "orders")}
    return {**lines, "clients": len(json.loads((cache / "clients.json").read_bytes()))}


def bench_size(
    size: Size, page_ceiling: int, keep: bool, cache_root: Path | None, peer: bool, history: bool = True
) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix=f"acuity-bench-{size.name}-"))
    cache = cache_root / size.cache_name() if cache_root is not None else None
    server = "pre-serialised bytes" if cache is not None else "the sandbox"
    print(f"[{size.name}] {size.scenario} account served from {server}; work dir {work}", flush=True)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    sandbox = SandboxProcess(size, work / "sandbox.log", env, timeout=size.timeout_seconds, cache=cache)
    body: dict[str, Any] = {
        "scenario": size.scenario,
        "server": {"static": sandbox.static, "capture_seconds": sandbox.capture_seconds, "cache": str(cache)},
        "syncs": {},
    }
    try:
        for kind in ("backfill", "daily"):
            print(f"[{size.name}] {kind} sync ...", flush=True)
            sync = body["syncs"][kind] = measure_repeated(kind, size, sandbox, work, page_ceiling)
            state = "ok" if sync["ok"] else f"FAILED: {sync['error']}"
            print(f"[{size.name}] {kind}: {sync['wall_seconds']:.1f} s end-to-end, {state}", flush=True)
            if not sync["ok"]:
                break  # a daily sync after a failed backfill measures nothing meaningful
        else:
            body["dbt_fixed_seconds"] = measure_dbt_fixed_cost(sandbox, work)
            if history and size.name != "seed":  # the seed account's history is a few hundred rows
                print(f"[{size.name}] the daily again, on a warehouse holding only its window ...", flush=True)
                first = date.fromisoformat(body["syncs"]["daily"]["window"][0])
                body["history"] = measure_history(size, sandbox, work, page_ceiling, first)
            if peer and cache is not None:
                print(f"[{size.name}] peer: dlt rest_api ...", flush=True)
                body["truth"] = account_truth(cache)
                body["peer"] = measure_peer(size, sandbox, work, body["truth"])
                print(f"[{size.name}] peer: {body['peer']['wall_seconds']:.1f} s", flush=True)
    finally:
        sandbox.stop()
        body["sandbox_cpu_seconds"] = sandbox.cpu_seconds
        body["sandbox_peak_rss_bytes"] = sandbox.peak_rss
        if not keep:
            shutil.rmtree(work, ignore_errors=True)
    return body


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="seed,medium", help="comma list of seed, medium, large")
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=Path(tempfile.gettempdir()) / "acuity-bench-cache",
        help="where each size's account is captured once and served from",
    )
    parser.add_argument("--sandbox-server", action="store_true", help="serve from the sandbox (the old floor)")
    parser.add_argument("--no-peer", action="store_true", help="skip dlt's rest_api peer")
    parser.add_argument(
        "--no-history", action="store_true", help="skip the daily on a warehouse holding only its window"
    )
    parser.add_argument("--out", type=Path, default=PROJECT_DIR / "bench" / "results")
    parser.add_argument("--keep", action="store_true", help="keep the temporary warehouses and logs")
    parser.add_argument(
        "--orchestrate",
        type=int,
        metavar="N",
        help="instead: N sandbox tenants under Dagster, runs at once against one after another (bench.orchestration)",
    )
    parser.add_argument(
        "--latency", type=float, default=0.5, help="with --orchestrate: seconds every answer waits (Acuity's network)"
    )
    parser.add_argument("--postgres", metavar="URL", help="with --orchestrate: into PostgreSQL (databases it creates)")
    args = parser.parse_args(argv)
    if args.orchestrate:
        return orchestrated(args.orchestrate, args.latency, args.keep, args.out, args.postgres)
    try:
        sizes = parse_sizes(args.sizes)
    except ValueError as exc:
        parser.error(str(exc))
    page_ceiling = int(os.environ.get("ACUITY_PAGE_CEILING", DEFAULT_CEILING))
    started = time.perf_counter()
    results: dict[str, Any] = {
        "machine": machine.describe(),
        "as_of": AS_OF.isoformat(),
        "since": SINCE.isoformat(),
        "page_ceiling": page_ceiling,
        "sizes": {},
    }
    cache_root = None if args.sandbox_server else args.cache_dir
    for size in sizes:
        results["sizes"][size.name] = bench_size(
            size, page_ceiling, args.keep, cache_root, not args.no_peer, not args.no_history
        )
    results["seconds"] = time.perf_counter() - started
    results["load_average_at_end"] = machine.load_average()
    results["targets"] = report.evaluate(results)
    table = report.markdown(results)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "latest.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
    (args.out / "latest.md").write_text(table)
    print(table)
    failed = any(not s["ok"] for body in results["sizes"].values() for s in body["syncs"].values()) or any(
        body.get("history", {}).get("error") for body in results["sizes"].values()
    )
    return 1 if failed else 0


def orchestrated(tenants: int, latency: float, keep: bool, out: Path, postgres: str | None) -> int:
    """Only the orchestration figures (they need the orchestrate extra, which `make test` installs)."""
    from bench import orchestration

    result = {"machine": machine.describe(), **orchestration.measure(tenants, latency, keep, postgres)}
    result["load_average_at_end"] = machine.load_average()
    table = orchestration.markdown(result)
    name = f"orchestration-{result['target']}"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{name}.json").write_text(json.dumps(result, indent=2, default=str) + "\n")
    (out / f"{name}.md").write_text(table)
    print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
