"""The standalone server the benchmark syncs against, run as its own process so its CPU is not the pipeline's.

With ``--cache DIR`` (what ``make bench`` uses) the server is ``bench.static``: the sandbox's account captured once
into DIR (reused by later runs) and served as pre-serialised bytes, so neither the floor nor a sync waits on the
sandbox rendering JSON. Without it, the sandbox itself serves (the old, flattering floor).

One account is served twice: a rate-limited server (10 req/s, Acuity's documented limit) that the pipeline syncs, so
any 429 the pipeline provokes is counted, and an unlimited one that the floor replay fetches from, so the floor is
not throttled. The account is the sandbox's own: the "large" scenario derives records per index, never storing them.

Protocol (line based, so the parent needs no extra dependency): on start, one JSON line
``{"limited": url, "open": url, "user_id": ..., "api_key": ...}`` on stdout; then commands on stdin:
``log PATH`` writes the limited server's request log since the previous ``log`` to PATH as JSON and answers ``ok``;
``quit`` or end of input stops both servers, so the process never outlives a crashed parent.
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

from bench import static
from sandbox import SandboxServer, build_account

USER_ID = "10001"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.serve")
    parser.add_argument("--scenario", default="seed", choices=("seed", "large"))
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--as-of", type=date.fromisoformat, required=True)
    parser.add_argument("--appointments", type=int)
    parser.add_argument("--clients", type=int)
    parser.add_argument("--orders", type=int)
    parser.add_argument("--cache", type=Path, help="serve the account captured into this directory (captured once)")
    args = parser.parse_args(argv)
    sizes = {"appointments": args.appointments, "clients": args.clients, "orders": args.orders}
    api_key = secrets.token_urlsafe(16)
    hello: dict[str, Any] = {"user_id": USER_ID, "api_key": api_key}
    if args.cache is not None:
        if not (args.cache / "complete").exists():
            started = time.perf_counter()
            account = build_account(args.scenario, args.seed, args.as_of, **sizes)
            with SandboxServer({USER_ID: (api_key, account)}, rate_limit=False) as sandbox:
                static.capture(sandbox.base_url, (USER_ID, api_key), args.cache)
            hello["capture_seconds"] = time.perf_counter() - started
        snapshot = static.Snapshot.load(args.cache)
        with (
            static.StaticAcuity(snapshot, USER_ID, api_key, rate_limit=True) as limited,
            static.StaticAcuity(snapshot, USER_ID, api_key, rate_limit=False) as open_,
        ):
            _serve({**hello, "limited": limited.base_url, "open": open_.base_url, "static": True}, limited.request_log)
        return 0
    account = build_account(args.scenario, args.seed, args.as_of, **sizes)
    accounts = {USER_ID: (api_key, account)}
    with SandboxServer(accounts, rate_limit=True) as limited, SandboxServer(accounts, rate_limit=False) as open_:
        _serve({**hello, "limited": limited.base_url, "open": open_.base_url, "static": False}, limited.request_log)
    return 0


def _serve(hello: dict[str, Any], request_log: list[tuple[str, str, int]]) -> None:
    """Announce the servers, then answer ``log``/``quit`` commands until told to stop or stdin closes."""
    print(json.dumps(hello), flush=True)
    for line in sys.stdin:
        command, _, argument = line.strip().partition(" ")
        if command == "quit":
            break
        if command == "log":
            entries, request_log[:] = list(request_log), []
            Path(argument).write_text(json.dumps(entries))
            print("ok", flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
