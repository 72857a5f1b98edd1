"""Targets and the Markdown table: every target is printed with its measured value and ratio, met or not."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

MIB = 2**20
NA = "n/a"  # a figure that was not measured (a failed or skipped step)
GIB = 2**30

Result = dict[str, Any]


def _sync(results: Result, size: str, kind: str) -> Result | None:
    return results.get("sizes", {}).get(size, {}).get("syncs", {}).get(kind)


def _all_syncs(results: Result) -> list[tuple[str, str, Result]]:
    return [
        (size, kind, sync)
        for size, body in results.get("sizes", {}).items()
        for kind, sync in body.get("syncs", {}).items()
    ]


Measure = Callable[[], tuple[float | None, str]]


def _target(name: str, limit: float, unit: str, measure: Measure, strict: bool) -> Result:
    """``measure`` returns (value, where); ``strict`` means value < limit, else value <= limit."""
    value, where = measure()
    if value is None:
        return {"target": name, "limit": limit, "unit": unit, "value": None, "ratio": None, "met": None, "where": where}
    met = value < limit if strict else value <= limit
    ratio = value / limit if limit else None
    return {"target": name, "limit": limit, "unit": unit, "value": value, "ratio": ratio, "met": met, "where": where}


def evaluate(results: Result) -> list[Result]:
    def seed_daily() -> tuple[float | None, str]:
        sync = _sync(results, "seed", "daily")
        if not sync:
            return None, "seed size not run"
        runs = sync.get("wall_seconds_all") or [sync["wall_seconds"]]
        return sync["wall_seconds"], f"seed daily, median of {len(runs)} ({min(runs):.2f} to {max(runs):.2f} s)"

    def request_ratio() -> tuple[float | None, str]:
        ratios = [(s["http"]["ratio"], f"{size} {kind}") for size, kind, s in _all_syncs(results) if s["http"]["ratio"]]
        return max(ratios) if ratios else (None, "no sync run")

    def large_floor() -> tuple[float | None, str]:
        sync = _sync(results, "large", "backfill")
        return (sync["floor"]["pipeline_over_floor"], "large backfill") if sync else (None, "large size not run")

    def large_rss() -> tuple[float | None, str]:
        sync = _sync(results, "large", "backfill")
        return (sync["peak_rss_tree_bytes"] / GIB, "large backfill, largest process") if sync else (None, "not run")

    def large_dbt() -> tuple[float | None, str]:
        syncs = [(s["dbt_seconds"], f"large {k}") for k in ("backfill", "daily") if (s := _sync(results, "large", k))]
        syncs = [(v, w) for v, w in syncs if v is not None]
        return max(syncs) if syncs else (None, "large size not run")

    def http_429() -> tuple[float | None, str]:
        syncs = _all_syncs(results)
        if not syncs:
            return None, "no sync run"
        return float(sum(s["http"]["http_429"] or 0 for _, _, s in syncs)), f"all {len(syncs)} syncs"

    return [
        _target("seed-shaped no-change daily sync, end-to-end incl. dbt", 5.0, "s", seed_daily, strict=False),
        _target("HTTP requests per sync vs minimum (worst sync)", 1.2, "x", request_ratio, strict=False),
        _target("large backfill vs floor (a)+(b)", 3.0, "x", large_floor, strict=False),
        _target("large backfill peak RSS", 1.0, "GiB", large_rss, strict=True),
        _target("dbt build on the large account", 60.0, "s", large_dbt, strict=True),
        _target("429s provoked against a 10 req/s server", 0.0, "", http_429, strict=False),
    ]


def _n(value: float | None, digits: int = 1) -> str:
    return NA if value is None else f"{value:,.{digits}f}"


def _mib(value: int | None) -> str:
    return NA if not value else f"{value / MIB:,.0f}"


def _status(target: Result) -> str:
    if target["met"] is None:
        return "not measured"
    return "met" if target["met"] else "**NOT met**"


def markdown(results: Result) -> str:
    machine = results["machine"]
    packages = ", ".join(f"{k} {v}" for k, v in machine["packages"].items())
    lines = [
        f"# Pipeline benchmark — {machine['date']}",
        "",
        f"Machine: {machine['nproc']} CPUs ({machine['cpu_model']}), {machine['ram_gib']} GiB RAM, Linux"
        f" {machine['kernel']}, Python {machine['python']}; {packages}. Load average at start"
        f" {machine['load_average_at_start']}, at end {results.get('load_average_at_end')} (the machine is shared).",
        f"Sizes run: {', '.join(results['sizes'])}. Page size (`max`) {results['page_size']}. As-of {results['as_of']},"
        f" backfill since {results['since']}. Wall time of the whole benchmark {_n(results.get('seconds'))} s.",
        "",
        "## Targets",
        "",
        "| target | limit | measured | ratio to limit | status | where |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for t in results["targets"]:
        op = "<" if t["target"].endswith(("RSS", "account")) else "≤"
        lines.append(
            f"| {t['target']} | {op} {t['limit']:g} {t['unit']} | {_n(t['value'], 2)} {t['unit']} |"
            f" {_n(t['ratio'], 2)} |"
            f" {_status(t)} | {t['where']} |"
        )
    fixed = results.get("sizes", {}).get("seed", {}).get("dbt_fixed_seconds")
    if fixed is not None:
        lines += [
            "",
            f"dbt's fixed cost on this machine, measured in the same run: {_n(fixed, 2)} s to start a process, import"
            " dbt and parse the project (`dbt parse`, partial) before any model runs. The pipeline starts that child"
            " as the run starts, so it overlaps the sync.",
        ]
    lines += [
        "",
        "## Syncs",
        "",
        "Each sync is `python -m transform` in a child process against a standalone sandbox process (10 req/s"
        " enforced). Stage times come from the run row in `raw_acuity.sync_runs`; dbt is the pipeline's wait from the"
        " committed load to the end of `dbt build` (dbt's child, started with the run, may still be getting ready);"
        " RSS is the high-water mark of the pipeline process / of dbt (its child).",
        "",
        "| size | sync | extract s | normalize s | load s | dbt s | end-to-end s | CPU s | peak RSS MiB pipeline / dbt"
        " | rows | rows/s | requests / minimum (ratio) | 429s | floor (a) fetch s | floor (b) read_json s"
        " | sync ÷ floor |",
        "| --- | --- |" + " --- |" * 14,
    ]
    for size, kind, s in _all_syncs(results):
        http, floor = s["http"], s["floor"]
        lines.append(
            f"| {size} | {kind}{'' if s['ok'] else ' **FAILED**'} | {_n(s['extract_seconds'])} |"
            f" {_n(s['normalize_seconds'])} | {_n(s['load_seconds'])} | {_n(s['dbt_seconds'])} |"
            f" {_n(s['wall_seconds'])} | {_n(s['cpu_seconds'])} | {_mib(s['peak_rss_bytes'])} /"
            f" {_mib(s['peak_rss_dbt_bytes'])} | {s['rows_total']:,} | {_n(s['rows_per_second'], 0)} |"
            f" {http['requests']} / {http['minimum']} ({_n(http['ratio'], 2)}) | {http['http_429']} |"
            f" {_n(floor.get('fetch_seconds'))} | {_n(floor.get('load_seconds'))} |"
            f" {_n(floor.get('pipeline_over_floor'), 2)} |"
        )
    lines += [
        "",
        "## Sandbox serving throughput (the floor fetch)",
        "",
        "The sandbox runs in its own process; the floor fetch (a) replays the pipeline's requests against it without"
        " a rate limit, so these figures bound how fast any client could read it.",
        "",
        "| size | sync | requests | MB | seconds | rows/s | MB/s | sandbox CPU s (whole size) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for size, kind, s in _all_syncs(results):
        floor = s["floor"]
        lines.append(
            f"| {size} | {kind} | {floor.get('fetch_requests', NA)} | {_n((floor.get('fetch_bytes') or 0) / 1e6)} |"
            f" {_n(floor.get('fetch_seconds'))} | {_n(floor.get('fetch_rows_per_second'), 0)} |"
            f" {_n(floor.get('fetch_mb_per_second'))} | {_n(results['sizes'][size].get('sandbox_cpu_seconds'))} |"
        )
    errors = [(size, kind, s["error"]) for size, kind, s in _all_syncs(results) if s.get("error")]
    if errors:
        lines += ["", "## Errors", ""] + [f"- {size} {kind}: {error}" for size, kind, error in errors]
    return "\n".join(lines) + "\n"
