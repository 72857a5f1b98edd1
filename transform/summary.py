"""The seed-style report printed at the end of a run, read from the marts (never from the extractor's counters)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

# The job result: the importer's metric names (marts.sync_metrics keeps them, /work/shared/seed-summary.md), each with
# words that say what it counts. Every appointment the run read lands in exactly one of the bucket lines.
METRICS = (
    ("fetched", "appointments read from Acuity (the run's window)"),
    ("appointments_attempted", "future, active, matched to a contact"),
    ("appointments_persisted", "  of them in future_appointments"),
    ("appointments_skipped_unmatched", "future, active, no matching contact (in future_appointments as unmatched)"),
    ("appointments_skipped_historical", "before as-of: history, kept in marts.appointments"),
    ("appointments_skipped_canceled", "future but canceled, kept in marts.appointments"),
    ("appointments_skipped_missing_time", "no usable start time, in marts.rejected_records"),
    ("appointments_skipped_invalid_record", "no usable id, in marts.rejected_records"),
    ("appointments_skipped_write_failures", "matched but missing from future_appointments"),
    ("appointments_skipped_total", "not in future_appointments as matched (all of the above)"),
    ("contacts_processed", "Acuity client records"),
    ("contacts", "people in marts.contacts"),
    ("contacts_with_revenue", "contacts with order revenue"),
    ("total_revenue", "order revenue (orders whose status counts)"),
    ("unmatched_revenue", "  of it from orders matching no contact"),
    ("records_skipped", "records set aside (marts.rejected_records, skipped)"),
    ("records_flagged", "records kept with a flag (marts.rejected_records, kept)"),
    ("http_requests", "requests sent"),
    ("http_429", "  rate-limited and retried"),
    ("http_5xx", "  server errors and retried"),
    ("clients_status", "last HTTP status, clients"),
    ("appointments_status", "last HTTP status, appointments"),
    ("orders_status", "last HTTP status, orders"),
    ("duration_seconds", "seconds the sync took"),
)
# the words for marts.last_run_changes.change, in the order the morning view lists them
CHANGES = (
    ("booked", "new booking", "new bookings"),
    ("canceled", "cancellation", "cancellations"),
    ("rescheduled", "reschedule", "reschedules"),
    ("no_show", "no-show", "no-shows"),
    ("paid", "payment", "payments"),
    ("removed", "deleted in Acuity", "deleted in Acuity"),
    ("ordered", "new unpaid order", "new unpaid orders"),
    ("edited", "other edit", "other edits"),
)
CHANGES_LISTED = 12  # the changes listed one per line; the counts cover them all


@dataclass
class TenantSummary:
    tenant_id: str
    metrics: dict[str, Any]
    future_by_month: list[tuple[str, int]]
    match_rules: dict[str, int]
    revenue: dict[str, Any]
    freshness: dict[str, Any] = field(default_factory=dict)
    changes: list[dict[str, Any]] = field(default_factory=list)
    first_run: bool = False
    days: list[tuple[str, int, int]] = field(default_factory=list)  # (calendar, today, tomorrow)


def read_summaries(connection: Any) -> list[TenantSummary]:
    """The latest run's metrics per tenant, what it changed, today and tomorrow per calendar, how fresh the marts
    are, its revenue reconciliation, future appointments per month and rule.

    ``connection`` is any DB-API connection to the warehouse (DuckDB or PostgreSQL): the SQL is portable.
    """
    metrics = _dicts(connection, "select * from marts.sync_metrics order by tenant_id")
    revenue = {row["tenant_id"]: row for row in _dicts(connection, "select * from marts.revenue_reconciliation")}
    freshness = read_freshness(connection)
    changes = _dicts(
        connection,
        """
        select * from marts.last_run_changes where change <> 'first_read'
        order by tenant_id, change, happens_at_local, record, record_id
        """,
    )
    runs = dict(
        _rows(connection, "select tenant_id, count(*) from marts.sync_runs where status = 'success' group by 1")
    )
    days = _rows(
        connection,
        """
        select tenant_id, calendar,
            sum(case when cast(starts_at_local as date) = cast(as_of as date) then 1 else 0 end),
            sum(case when cast(starts_at_local as date) > cast(as_of as date) then 1 else 0 end)
        from marts.appointments
        where status = 'scheduled'
            and cast(starts_at_local as date) >= cast(as_of as date)
            and cast(starts_at_local as date) <= cast(as_of as date) + 1
        group by 1, 2 order by 1, 2
        """,
    )
    months = _rows(
        connection,
        """
        select tenant_id, date_trunc('month', starts_at_utc) as month, count(*)
        from marts.future_appointments group by 1, 2 order by 1, 2
        """,
    )
    rules = _rows(
        connection, "select tenant_id, match_rule, count(*) from marts.future_appointments group by 1, 2 order by 1, 2"
    )
    changed = {change["tenant_id"] for change in changes}
    return [
        TenantSummary(
            tenant_id=row["tenant_id"],
            metrics=row,
            future_by_month=[(f"{month:%Y-%m}", n) for tenant, month, n in months if tenant == row["tenant_id"]],
            match_rules={rule: n for tenant, rule, n in rules if tenant == row["tenant_id"]},
            revenue=revenue.get(row["tenant_id"], {}),
            freshness=freshness.get(row["tenant_id"], {}),
            changes=[change for change in changes if change["tenant_id"] == row["tenant_id"]],
            first_run=runs.get(row["tenant_id"], 0) <= 1 and row["tenant_id"] not in changed,
            days=[
                (calendar, int(today), int(tomorrow)) for t, calendar, today, tomorrow in days if t == row["tenant_id"]
            ],
        )
        for row in metrics
    ]


def read_freshness(connection: Any) -> dict[str, dict[str, Any]]:
    """marts.sync_freshness by tenant: the last successful run and the runs that failed since."""
    return {row["tenant_id"]: row for row in _dicts(connection, "select * from marts.sync_freshness")}


def _rows(connection: Any, sql: str) -> list[tuple[Any, ...]]:
    cursor = connection.cursor()
    cursor.execute(sql)
    return cursor.fetchall()


def _dicts(connection: Any, sql: str) -> list[dict[str, Any]]:
    cursor = connection.cursor()
    cursor.execute(sql)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def format_summary(summary: TenantSummary) -> str:
    """Plain text, aligned, no colour: it must read the same in a terminal, a CI log and a cron mail. It opens with
    what an operator reads first in the morning: what changed since the last run, then today and tomorrow."""
    m, revenue, rules = summary.metrics, summary.revenue, summary.match_rules
    future = sum(rules.values())
    unmatched = rules.get("unmatched", 0)
    lines = [f"Tenant {summary.tenant_id} — as of {m['as_of']:%Y-%m-%d %H:%M} UTC (run {m['run_id']})"]
    lines += morning_view(summary)
    lines += [
        f"  marts.future_appointments: {future:,} appointments — {future - unmatched:,} matched to a contact,"
        f" {unmatched:,} with no matching contact",
        f"  marts.contacts: {m['contacts']:,} people, from {m['contacts_processed']:,} Acuity client records",
        *money_lines(revenue),
        f"  requests: {_number(m['http_requests'])} ({_number(m['http_429'])} rate-limited, retried)",
        _reconciled(m),
        "  job result (marts.sync_metrics, named as the importer it replaces named them; appointments counted in the"
        " window the run read):",
    ]
    width = max(len(words) for _, words in METRICS)
    for key, words in METRICS:
        value = m.get(key)
        shown = f"${_money(value)}" if key in ("total_revenue", "unmatched_revenue") else _number(value)
        lines.append(f"    {words:<{width}}  {shown:>10}  {key}")
    lines.append("  future appointments by month (UTC):")
    lines += [f"    {month}  {count:>5}" for month, count in summary.future_by_month] or ["    (none)"]
    lines.append("  match rules: " + ", ".join(f"{rule} {n}" for rule, n in sorted(summary.match_rules.items())))
    return "\n".join(lines)


def money_lines(revenue: dict[str, Any]) -> list[str]:
    """Order revenue, appointment payments and total collected (marts.revenue_reconciliation), each with its
    unmatched part, under the names models/docs.md defines once, so no figure is read as another."""
    amounts = [f"${_money(revenue.get(key))}" for key in ("total_revenue", "appointment_payments", "total_collected")]
    order, payments, total = (amount.rjust(max(map(len, amounts))) for amount in amounts)
    return [
        "  marts.revenue_reconciliation, money (each term defined in `make docs`):",
        f"    order revenue         {order} = ${_money(revenue.get('matched_revenue'))} from"
        f" {_number(revenue.get('contacts_with_revenue'))} contacts + ${_money(revenue.get('unmatched_revenue'))}"
        " from orders that match no contact",
        f"    appointment payments  {payments} = ${_money(revenue.get('matched_appointment_payments'))} from contacts"
        f" + ${_money(revenue.get('unmatched_appointment_payments'))} on appointments that match no contact",
        f"    total collected       {total} = order revenue + appointment payments"
        f" ({_number(revenue.get('contacts_paying'))} contacts paid something)",
        "    (orders: paid and delivered, packages included; appointments: amount paid, canceled ones included)",
    ]


def morning_view(summary: TenantSummary) -> list[str]:
    """What changed since the last run (marts.last_run_changes), today and tomorrow per calendar, and how the
    runs went (marts.sync_freshness)."""
    lines = []
    counts = {key: sum(1 for c in summary.changes if c["change"] == key) for key, _, _ in CHANGES}
    if summary.first_run:
        lines.append("  since the last run: this is the first run, so everything is new (see the marts)")
    else:
        said = [f"{counts[key]:,} {one if counts[key] == 1 else many}" for key, one, many in CHANGES if counts[key]]
        lines.append("  since the last run: " + (", ".join(said) if said else "no changes"))
        for change in summary.changes[:CHANGES_LISTED]:
            lines.append("    " + _change_line(change))
        if len(summary.changes) > CHANGES_LISTED:
            lines.append(f"    … and {len(summary.changes) - CHANGES_LISTED:,} more in marts.last_run_changes")
    if summary.days:
        width = max(len(calendar or "(no calendar)") for calendar, _, _ in summary.days)
        lines.append("  today and tomorrow, bookings per calendar:")
        lines += [
            f"    {calendar or '(no calendar)':<{width}}  today {today:>3}  tomorrow {tomorrow:>3}"
            for calendar, today, tomorrow in summary.days
        ]
    else:
        lines.append("  today and tomorrow: no bookings")
    lines.append("  " + runs_line(summary.freshness))
    return lines


def runs_line(freshness: dict[str, Any]) -> str:
    """``runs: last successful … ; N failed since (the last: …)``."""
    if not freshness:
        return "runs: no run history in the marts yet"
    last = freshness.get("last_success_at")
    line = f"runs: last successful {last:%Y-%m-%d %H:%M} UTC" if last else "runs: none successful yet"
    failed = freshness.get("failed_since") or 0
    if failed:
        line += (
            f"; {failed} failed since (the last, {freshness['last_failure_status']} at"
            f" {freshness['last_failure_stage']}: {freshness['last_failure_error']})"
        )
    else:
        line += "; none failed since"
    return line


def _change_line(change: dict[str, Any]) -> str:
    words = {key: one for key, one, _ in CHANGES}.get(change["change"], change["change"])
    when = f"{change['happens_at_local']:%Y-%m-%d %H:%M}" if change.get("happens_at_local") else "(no time)"
    moved = change.get("previous_happens_at_local")
    if change["change"] == "rescheduled" and moved:
        when = f"{moved:%Y-%m-%d %H:%M} -> {when}"
    who = f"{change.get('record') or 'record'} {change.get('record_id')}"  # an id: names are data, not log output
    paid = f"  ${_money(change.get('amount'))}" if change["change"] in ("paid", "ordered") else ""
    where = change.get("calendar") or ("order" if change.get("record") == "order" else "")
    return f"{words:<17} {when}  {where} — {who}{paid}"


def _reconciled(m: dict[str, Any]) -> str:
    """One line on the slice of older history the run re-read (Acuity has no "modified since")."""
    status = m.get("reconcile_status")
    if status is None:
        return "  older history: not reconciled this run (a backfill reads it all)"
    span = f"{m['reconcile_first']:%Y-%m-%d} … {m['reconcile_last']:%Y-%m-%d}"
    if status != "done":
        return f"  older history: {span} left for a later run (more requests than ACUITY_RECONCILE_BUDGET)"
    return (
        f"  older history reconciled: {span} — {_number(m['reconcile_changed'])} changed,"
        f" {_number(m['reconcile_added'])} added, {_number(m['reconcile_retired'])} retired"
        f" ({_number(m['reconcile_requests'])} requests)"
    )


def _money(value: Any) -> str:
    amount = Decimal(str(value or 0))
    return f"{amount:,.2f}".removesuffix(".00") if amount == amount.to_integral() else f"{amount:,.2f}"


def _number(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.2f}"
    return f"{value:,}" if isinstance(value, int) else str(value)
