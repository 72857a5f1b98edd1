"""CLI: serve one generated account until Ctrl-C, e.g. `python -m sandbox --port 8765 --seed 42`."""

from __future__ import annotations

import argparse
from datetime import date

from sandbox.generator import build_account
from sandbox.server import SandboxServer


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description="Local Acuity Scheduling API v1 emulator")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--scenario", default="seed", choices=("seed", "large"))
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--as-of", type=date.fromisoformat, default=date(2026, 11, 24))
    parser.add_argument("--user-id", default="10001")
    parser.add_argument("--api-key", default="sandbox-key")
    parser.add_argument("--appointments", type=int, help="large scenario only")
    parser.add_argument("--clients", type=int, help="large scenario only")
    parser.add_argument("--orders", type=int, help="large scenario only")
    parser.add_argument("--no-rate-limit", action="store_true")
    args = parser.parse_args(argv)
    account = build_account(
        args.scenario,
        args.seed,
        args.as_of,
        appointments=args.appointments,
        clients=args.clients,
        orders=args.orders,
    )
    server = SandboxServer({args.user_id: (args.api_key, account)}, rate_limit=not args.no_rate_limit, port=args.port)
    # The key is the caller's own secret: name the user id only, so logs never carry credentials.
    print(f"Acuity sandbox ({args.scenario}, seed {args.seed}, as of {args.as_of}) at {server.base_url}")
    print(f"Basic auth: user id {args.user_id}, password = the --api-key you passed", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("stopped")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
