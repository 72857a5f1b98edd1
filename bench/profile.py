"""``python -m bench.profile``: where one sync's time goes, for the findings the benchmark's ratios call for.

Runs the pipeline child under cProfile against a standalone sandbox (backfill, then optionally the daily sync) and
prints the functions with the most cumulative and own time, then dbt's slowest nodes from ``run_results.json``
(dbt runs as a grandchild, outside the profile; its per-node timings are the profile that matters there).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import pstats
import shutil
import sys
import tempfile
from pathlib import Path

from bench.procs import run_measured
from bench.run import child_env
from bench.sandbox_proc import SandboxProcess
from bench.sizes import AS_OF, SIZES
from transform.paths import PROJECT_DIR


def top_functions(profile: Path, sort: str, limit: int) -> str:
    out = io.StringIO()
    pstats.Stats(str(profile), stream=out).strip_dirs().sort_stats(sort).print_stats(limit)
    return out.getvalue()


def slowest_dbt_nodes(run_results: Path, limit: int) -> list[tuple[float, str]]:
    if not run_results.exists():
        return []
    nodes = json.loads(run_results.read_text()).get("results", [])
    timed = [(float(n.get("execution_time") or 0), n.get("unique_id", "?")) for n in nodes]
    return sorted(timed, reverse=True)[:limit]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="medium", choices=tuple(SIZES))
    parser.add_argument("--syncs", default="backfill", help="comma list of backfill, daily")
    parser.add_argument("--out", type=Path, help="keep the .prof files here (default: print only)")
    parser.add_argument("--limit", type=int, default=35)
    args = parser.parse_args(argv)
    size = SIZES[args.size]
    work = Path(tempfile.mkdtemp(prefix=f"acuity-profile-{size.name}-"))
    sandbox = SandboxProcess(size, work / "sandbox.log", {**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        for kind in args.syncs.split(","):
            profile = work / f"{kind}.prof"
            child = run_measured(
                [sys.executable, "-m", "cProfile", "-o", str(profile), "-m", "transform", "--as-of", AS_OF.isoformat()],
                env={**child_env(sandbox, work), "ACUITY_DBT_VERBOSE": "1"},  # so dbt writes run_results.json
                cwd=PROJECT_DIR,
                timeout=size.timeout_seconds,
                log_path=work / f"{kind}.log",
            )
            print(f"== {size.name} {kind}: exit {child.returncode}, {child.wall_seconds:.1f} s wall")
            print(child.tail(6))
            if profile.exists():
                print(top_functions(profile, "cumulative", args.limit))
                print(top_functions(profile, "tottime", args.limit))
                if args.out:
                    args.out.mkdir(parents=True, exist_ok=True)
                    shutil.copy(profile, args.out / f"{size.name}-{kind}.prof")
            print("dbt slowest nodes (s):")
            for seconds, node in slowest_dbt_nodes(work / "target" / "run_results.json", 15):
                print(f"  {seconds:7.2f}  {node}")
    finally:
        sandbox.stop()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
