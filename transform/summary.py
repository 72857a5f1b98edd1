"""The seed-style report printed at the end of a run, read from the marts (never from the extractor's counters)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

METRIC_ORDER = (
    "fetched",
    "appointments_attempted",
    "appointments_persisted",
    "appointments_skipped_historical",
    "appointments_skipped_canceled",
    "appointments_skipped_unmatched",
    "appointments_skipped_missing_time",
    "appointments_skipped_invalid_record",
    "appointments_skipped_write_failures",
    "appointments_skipped_total",
    "contacts_processed",
    "contacts",
    "contacts_with_revenue",
    "total_revenue",
    "unmatched_revenue",
    "records_skipped",
    "records_flagged",
    "http_requests",
    "http_429",
    "http_5xx",
    "clients_status",
    "appointments_status",
    "orders_status",
    "duration_seconds",
)


@dataclass
class TenantSummary:
    tenant_id: str
    metrics: dict[str, Any]
    future_by_month: list[tuple[str, int]]
    match_rules: dict[str, int]
    revenue: dict[str, Any]


def read_summaries(connection: Any) -> list[TenantSummary]:
    """The latest run's metrics per tenant, its revenue reconciliation, future appointments per month and rule.

    ``connection`` is any DB-API connection to the warehouse (DuckDB or PostgreSQL): the SQL is portable.
    """
    metrics = _dicts(connection, "select * from marts.sync_metrics order by tenant_id")
    revenue = {row["tenant_id"]: row for row in _dicts(connection, "select * from marts.revenue_reconciliation")}
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
    return [
        TenantSummary(
            tenant_id=row["tenant_id"],
            metrics=row,
            future_by_month=[(f"{month:%Y-%m}", n) for tenant, month, n in months if tenant == row["tenant_id"]],
            match_rules={rule: n for tenant, rule, n in rules if tenant == row["tenant_id"]},
            revenue=revenue.get(row["tenant_id"], {}),
        )
        for row in metrics
    ]


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
    """Plain text, aligned, no colour: it must read the same in a terminal, a CI log and a cron mail."""
    m, revenue, rules = summary.metrics, summary.revenue, summary.match_rules
    future = sum(rules.values())
    unmatched = rules.get("unmatched", 0)
    lines = [
        f"Tenant {summary.tenant_id} — run {m['run_id']} (as of {m['as_of']:%Y-%m-%d %H:%M} UTC)",
        f"  marts.future_appointments: {future:,} appointments — {future - unmatched:,} matched to a contact,"
        f" {unmatched:,} unmatched",
        f"  marts.contacts: {m['contacts']:,} people, from {m['contacts_processed']:,} Acuity client records",
        f"  marts.revenue_reconciliation: ${_money(revenue.get('total_revenue'))} revenue ="
        f" ${_money(revenue.get('matched_revenue'))} from {_number(revenue.get('contacts_with_revenue'))} contacts"
        f" + ${_money(revenue.get('unmatched_revenue'))} from orders that match no contact",
        f"  requests: {_number(m['http_requests'])} ({_number(m['http_429'])} rate-limited, retried)",
        _reconciled(m),
        "  job result (marts.sync_metrics; appointments counted in the window the run read):",
    ]
    width = max(len(k) for k in METRIC_ORDER)
    for key in METRIC_ORDER:
        value = m.get(key)
        shown = f"${_money(value)}" if key in ("total_revenue", "unmatched_revenue") else _number(value)
        lines.append(f"    {key:<{width}}  {shown:>12}")
    lines.append("  future appointments by month (UTC):")
    lines += [f"    {month}  {count:>5}" for month, count in summary.future_by_month] or ["    (none)"]
    lines.append("  match rules: " + ", ".join(f"{rule} {n}" for rule, n in sorted(summary.match_rules.items())))
    return "\n".join(lines)


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
