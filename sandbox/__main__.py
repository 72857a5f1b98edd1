"""CLI: serve one generated account until Ctrl-C, e.g. `python -m sandbox --port 8765 --seed 42`."""

from __future__ import annotations

import argparse
from datetime import UTC, date, datetime

from sandbox.cache import DEFAULT_BUDGET
from sandbox.generator import LARGE_DEFAULTS, build_account
from sandbox.server import SandboxServer


def build_parser() -> argparse.ArgumentParser:
    """The CLI's options, each with help text (a unit test holds every flag to that)."""
    parser = argparse.ArgumentParser(
        prog="python -m sandbox",
        description="Local Acuity Scheduling API v1 emulator: one generated account over HTTP, deterministic by seed.",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=8765,
        help="port on 127.0.0.1 to serve on, 0 for any free one (default: %(default)s)",
    )
    parser.add_argument(
        "--scenario",
        default="seed",
        choices=("seed", "large"),
        help="seed: the real tenant's shape (650 clients, ~2,000 appointments); "
        "large: records derived per index, any size (default: %(default)s)",
    )
    parser.add_argument(
        "--seed", type=int, default=42, help="random seed: the same seed serves the same bytes (default: %(default)s)"
    )
    parser.add_argument(
        "--as-of",
        type=date.fromisoformat,
        default=None,
        help="the account's 'today' (YYYY-MM-DD): history lies before it, bookings after it (default: today's date,"
        " so a pipeline run at the clock's as-of sees every booking the account has ahead)",
    )
    parser.add_argument(
        "--user-id",
        default="10001",
        help="numeric Acuity user id accepted as the Basic-auth user (default: %(default)s)",
    )
    parser.add_argument(
        "--api-key", default="sandbox-key", help="API key accepted as the Basic-auth password (default: %(default)s)"
    )
    parser.add_argument(
        "--appointments",
        type=int,
        help=f"number of appointments (large scenario only; default {LARGE_DEFAULTS['appointments']:,})",
    )
    parser.add_argument(
        "--clients", type=int, help=f"number of clients (large scenario only; default {LARGE_DEFAULTS['clients']:,})"
    )
    parser.add_argument(
        "--orders", type=int, help=f"number of orders (large scenario only; default {LARGE_DEFAULTS['orders']:,})"
    )
    parser.add_argument(
        "--no-rate-limit",
        action="store_true",
        help="serve without Acuity's 10 requests/s and 20 concurrent connections limit",
    )
    parser.add_argument(
        "--hipaa",
        action="store_true",
        help="a HIPAA-enabled account: /me says isHIPAA: true, so the pipeline leaves health data out by default",
    )
    parser.add_argument(
        "--cache-mb",
        type=int,
        default=DEFAULT_BUDGET // 2**20,
        help="memory for rendered answers, reused until the account changes; 0 renders every request "
        "(default: %(default)s)",
    )
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    args.as_of = args.as_of or datetime.now(UTC).date()  # UTC: the pipeline's as-of is UTC too
    account = build_account(
        args.scenario,
        args.seed,
        args.as_of,
        appointments=args.appointments,
        clients=args.clients,
        orders=args.orders,
    )
    if args.hipaa:
        account.sign_baa()
    server = SandboxServer(
        {args.user_id: (args.api_key, account)},
        rate_limit=not args.no_rate_limit,
        port=args.port,
        cache_bytes=args.cache_mb * 2**20,
    )
    # The key is the caller's own secret: name the user id only, so logs never carry credentials.
    print(f"Acuity sandbox ({args.scenario}, seed {args.seed}, as of {args.as_of}) at {server.base_url}")
    print(f"Basic auth: user id {args.user_id}, password = the --api-key you passed", flush=True)
    key = "sandbox-key" if args.api_key == "sandbox-key" else "<your --api-key>"  # the default is no secret
    print(
        f"Sync it: ACUITY_BASE_URL={server.base_url} ACUITY_USER_ID={args.user_id} ACUITY_API_KEY={key} make pipeline",
        flush=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("stopped")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
