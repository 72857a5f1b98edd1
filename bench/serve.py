"""The standalone sandbox the benchmark syncs against, run as its own process so its CPU is not the pipeline's.

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
from datetime import date
from pathlib import Path

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
    args = parser.parse_args(argv)
    sizes = {"appointments": args.appointments, "clients": args.clients, "orders": args.orders}
    account = build_account(args.scenario, args.seed, args.as_of, **sizes)
    api_key = secrets.token_urlsafe(16)
    accounts = {USER_ID: (api_key, account)}
    with SandboxServer(accounts, rate_limit=True) as limited, SandboxServer(accounts, rate_limit=False) as open_:
        hello = {"limited": limited.base_url, "open": open_.base_url, "user_id": USER_ID, "api_key": api_key}
        print(json.dumps(hello), flush=True)
        for line in sys.stdin:
            command, _, argument = line.strip().partition(" ")
            if command == "quit":
                break
            if command == "log":
                entries, limited.request_log[:] = list(limited.request_log), []
                Path(argument).write_text(json.dumps(entries))
                print("ok", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
