"""``python -m transform`` (``make pipeline``): the command line. Flags read the same on every subcommand."""

from __future__ import annotations

import argparse
import os
import re
import signal
import sys

from extract import AcuityError
from transform.errors import PipelineError


def build_parser() -> argparse.ArgumentParser:
    from extract.config import help_epilog  # the one table of settings; cheap: dlt is imported only to read them

    parser = argparse.ArgumentParser(
        prog="acuity-elt",
        description=(
            "Sync Acuity Scheduling into the warehouse and build the dbt models. Without ACUITY_USER_ID\n"
            "and ACUITY_API_KEY the embedded sandbox (a local Acuity emulator) is synced instead."
        ),
        epilog=help_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,  # keeps the epilog's one setting per line
    )
    sub = parser.add_subparsers(dest="command")
    run = sub.add_parser("run", help="extract, load, dbt build, summary (the default)")
    for target in (parser, run):
        target.add_argument("--as-of", help="treat this ISO date/timestamp as now (default: now; env ACUITY_AS_OF)")
        target.add_argument(
            "--since", help="backfill appointments from this date (default: 730 days before as-of; env ACUITY_SINCE)"
        )
        target.add_argument(
            "--full-refresh",
            action="store_true",
            help="re-read all appointments from --since, not just the live window",
        )
        target.add_argument(
            "--sandbox", action="store_true", help="sync the embedded sandbox even if credentials are set"
        )
        target.add_argument("--tenants", help="TOML file listing several accounts (env ACUITY_TENANTS_FILE)")
        target.add_argument(
            "--force-as-of",
            action="store_true",
            help="accept an --as-of earlier than the last run's or more than 7 days ahead of the clock"
            " (env ACUITY_FORCE_AS_OF=1); without it such a run is refused",
        )
    docs = sub.add_parser("docs", help="generate and serve dbt docs on 127.0.0.1")
    docs.add_argument("--port", type=int, default=8080)
    sub.add_parser("sql", help="open a read-only DuckDB shell on the warehouse")
    forget = sub.add_parser(
        "forget",
        help="erase one person from the warehouse, its state, the analysts' copy and the report (docs/privacy.md)",
        description="Erase one person: their records stay as anonymous rows (counts and revenue reconcile), every"
        " place is verified, and later syncs store them anonymised until --undo. A value of - is read from"
        " standard input, so it stays out of your shell history.",
    )
    forget.add_argument("--tenant", required=True, type=_tenant_id, help="the tenant_id holding the person")
    who = forget.add_mutually_exclusive_group(required=True)
    who.add_argument("--email", help="an email of the person")
    who.add_argument("--phone", help="a phone of the person, written any way")
    # Acuity's clients have no id (docs/acuity-api.md): --client-id names the person by the contact_id the models give
    who.add_argument("--contact-id", "--client-id", dest="contact_id", help="the person's contact_id (marts.contacts)")
    forget.add_argument(
        "--undo", action="store_true", help="end an erasure (needs --email or --phone): later syncs store them again"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Exit status: 0 success, 1 a failure (one line each on stderr), 2 a bad flag; a stop (SIGINT, SIGTERM) ends the
    process by that signal after its cleanup, so a shell, cron and make see 130 or 143."""
    from transform.signals import Interrupted, code_of, die_by, install, requested

    install()  # before anything starts: a stop while dbt's child gets ready is cleaned up like any other
    args = build_parser().parse_args(argv)
    try:
        if args.command == "docs":
            from transform.tools import serve_docs

            return serve_docs(args.port)
        if args.command == "sql":
            from transform.tools import sql_shell

            return sql_shell()
        if args.command == "forget":
            return _forget(args)
        return _run(args)
    except (AcuityError, PipelineError) as exc:
        if requested() is None:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        stop = Interrupted(requested() or signal.SIGINT)  # a stop that surfaced as another error on its way out
        print(stop.line(), file=sys.stderr)
        return die_by(stop.signal_code)
    except KeyboardInterrupt as stop:
        if not isinstance(stop, Interrupted):
            stop = Interrupted(requested() or code_of(stop))
        print(stop.line(), file=sys.stderr)
        return die_by(stop.signal_code)


def _tenant_id(value: str) -> str:
    if not re.fullmatch(r"[a-z0-9_]{1,40}", value):
        raise argparse.ArgumentTypeError("a tenant id is 1-40 characters of a-z, 0-9 and _ (as ACUITY_TENANT_ID)")
    return value


def _forget(args: argparse.Namespace) -> int:
    from transform import forget

    def given(value: str | None) -> str | None:
        return sys.stdin.readline().strip() if value == "-" else value

    request = forget.Request(args.tenant, given(args.email), given(args.phone), given(args.contact_id))
    return forget.undo(request) if args.undo else forget.forget(request)


def _run(args: argparse.Namespace) -> int:
    from extract.config import settings_from_env
    from transform import access
    from transform import warehouse as warehouses
    from transform.dbt import DbtProcess
    from transform.run import force_as_of, report_run, run, tenants_or_demo
    from transform.warehouse import warn_about_secrets

    warn_about_secrets()
    os.umask(access.current().umask)  # before dbt's child starts: what it writes is as private as the run's files
    # settings and accounts first: a bad setting stops the run before anything starts, and the accounts decide the
    # warehouse (the embedded demo has its own)
    settings = settings_from_env(args.as_of, args.since, args.full_refresh)
    tenants = tenants_or_demo(args.tenants, args.sandbox)
    # dbt's child starts before the sync: it needs ~2.5 s to get ready, about as long as syncing a small account
    with DbtProcess(warehouses.current(demo=not tenants)) as dbt:
        report = run(settings, tenants=tenants, dbt=dbt, force_as_of=args.force_as_of or force_as_of())
    return report_run(report)
