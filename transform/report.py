"""``python -m transform.report`` (``make report``): the marts as charts in one HTML file that opens offline.

One self-contained file rather than a dashboard server: it can be mailed, archived next to the warehouse and opened
on a laptop with no network, so plotly.js is inlined (no CDN) and every number is read from the marts, as the
run summary is. On DuckDB it reads the analysts' published copy (transform.publish), never the pipeline's private
file, so a report can be built while a sync runs; the SQL is portable, so the PostgreSQL target works too.
"""

from __future__ import annotations

import argparse
import html
import sys
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import plotly.graph_objects as go

from transform import access as file_access
from transform import warehouse as warehouses
from transform.errors import PipelineError
from transform.paths import analyst_path, published_warehouse
from transform.summary import TenantSummary, money_lines, morning_view, read_summaries

TOP_CONTACTS = 15
# where each run's appointments went (marts.sync_runs' buckets), in words: none of them is lost
RUN_BUCKETS = (
    ("appointments_persisted", "future, matched to a contact", "#2c7fb8"),
    ("appointments_skipped_unmatched", "future, no matching contact", "#c0392b"),
    ("appointments_skipped_canceled", "future, canceled (kept)", "#f39c12"),
    ("appointments_skipped_historical", "before as-of (kept as history)", "#95a5a6"),
    ("appointments_skipped_missing_time", "no start time (rejected_records)", "#8e44ad"),
    ("appointments_skipped_invalid_record", "no id (rejected_records)", "#6c3483"),
)
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
FAILURES_SHOWN = 10


@dataclass
class TenantCharts:
    tenant_id: str
    headline: str
    figures: list[go.Figure]
    morning: str = ""  # HTML: what changed, today and tomorrow, how the runs went
    money: list[str] = field(default_factory=list)  # the summary's money lines (transform.summary.money_lines)


def default_output() -> Path:
    """Beside the warehouse (``warehouse/report.html`` by default), so a moved warehouse keeps its report."""
    return published_warehouse().with_name("report.html")


# Every query reads marts only and returns tenant_id first; each chart gets the rows of its tenant without it.
QUERIES = {
    "weeks": """
        select tenant_id, cast(date_trunc('week', starts_at_local) as date) as week, count(*)
        from marts.future_appointments where starts_at_local is not null group by 1, 2 order by 1, 2
    """,
    # order revenue by the order's month, appointment payments by the appointment's (Acuity dates no payment)
    "revenue_months": """
        select tenant_id, month, sum(orders), sum(payments) from (
            select tenant_id, cast(date_trunc('month', ordered_at_local) as date) as month, order_total as orders,
                0 as payments
            from marts.orders where counts_as_revenue and ordered_at_local is not null
            union all
            select tenant_id, cast(date_trunc('month', starts_at_local) as date), 0, amount_paid
            from marts.appointments where status <> 'removed' and starts_at_local is not null and amount_paid <> 0
        ) as money
        group by 1, 2 order by 1, 2
    """,
    "rate_months": """
        select tenant_id, cast(date_trunc('month', starts_at_local) as date) as month, count(*),
            sum(case when status = 'canceled' then 1 else 0 end), sum(case when status = 'no_show' then 1 else 0 end)
        from marts.appointments
        where status <> 'removed' and not is_future and starts_at_local is not null
        group by 1, 2 order by 1, 2
    """,
    "weekday_hours": """
        select tenant_id, cast(extract(isodow from starts_at_local) as integer),
            cast(extract(hour from starts_at_local) as integer), count(*)
        from marts.appointments where status in ('scheduled', 'no_show') and starts_at_local is not null
        group by 1, 2, 3 order by 1, 2, 3
    """,
    "calendar_weeks": """
        select a.tenant_id, a.calendar, cast(date_trunc('week', a.starts_at_local) as date) as week,
            sum(coalesce(a.duration_minutes, 0)) / 60.0
        from marts.appointments as a
        where a.status in ('scheduled', 'no_show') and a.starts_at_local is not null
            and a.starts_at_local >= date_trunc('week', a.as_of) - interval '56 days'
            and a.starts_at_local < date_trunc('week', a.as_of) + interval '63 days'
        group by 1, 2, 3 order by 1, 2, 3
    """,
    "calendars": """
        select distinct tenant_id, calendar from marts.appointments where calendar is not null order by 1, 2
    """,
    "top_contacts": """
        select tenant_id, false, first_name, last_name, email, order_revenue, appointment_payments, total_collected,
            contact_id
        from marts.contacts where total_collected > 0
        union all
        select tenant_id, true, null, null, null, unmatched_revenue, unmatched_appointment_payments,
            unmatched_revenue + unmatched_appointment_payments, 'unmatched'
        from marts.revenue_reconciliation
        order by 1, 8 desc, 9
    """,
    "rules": """
        select tenant_id, match_rule, count(*) from marts.future_appointments group by 1, 2 order by 1, 3 desc, 2
    """,
    "runs": f"""
        select tenant_id, started_at, run_id, status, stage, error, as_of, {", ".join(k for k, _, _ in RUN_BUCKETS)}
        from marts.sync_runs order by tenant_id, started_at, run_id
    """,
}


def read_tenant_charts(connection: Any) -> list[TenantCharts]:
    """One section per tenant of the latest runs: a headline and the charts, all from the marts."""
    runs = _rows(
        connection,
        """
        select m.tenant_id, m.as_of, m.future_appointments, m.appointments_persisted, m.appointments_skipped_unmatched
        from marts.sync_metrics as m
        order by m.tenant_id
        """,
    )
    data = {name: _rows(connection, sql) for name, sql in QUERIES.items()}
    summaries = {summary.tenant_id: summary for summary in read_summaries(connection)}
    sections = []
    for tenant_id, as_of, future, matched, unmatched in runs:
        mine = {name: [row[1:] for row in rows if row[0] == tenant_id] for name, rows in data.items()}
        headline = (
            f"As of {as_of:%Y-%m-%d %H:%M} UTC: {future:,} future appointments ({matched:,} matched to a contact,"
            f" {unmatched:,} with no matching contact)."
        )
        first_week = _monday(as_of.date()) - timedelta(weeks=8)
        calendars = [calendar for (calendar,) in mine["calendars"]]
        figures = [
            weekly_chart(mine["weeks"]),
            revenue_by_month_chart(mine["revenue_months"]),
            rates_by_month_chart(mine["rate_months"]),
            weekday_hour_chart(mine["weekday_hours"]),
            utilisation_chart(mine["calendar_weeks"], calendars, first_week, 17),
            revenue_chart([row[:7] for row in mine["top_contacts"]]),
            match_rule_chart(mine["rules"]),
            runs_chart(mine["runs"]),
        ]
        summary = summaries.get(tenant_id)
        morning = morning_html(summary, mine["runs"]) if summary else ""
        money = money_lines(summary.revenue) if summary else []
        sections.append(TenantCharts(tenant_id, headline, figures, morning, money))
    return sections


def morning_html(summary: TenantSummary, runs: list[tuple[Any, ...]]) -> str:
    """The summary's morning view (transform.summary.morning_view, the same words) and the latest failed runs."""
    lines = "".join(f"<li>{html.escape(line.strip())}</li>" for line in morning_view(summary))
    failed = [run for run in runs if run[2] != "success"][-FAILURES_SHOWN:][::-1]
    rows = "".join(
        f"<tr><td>{started:%Y-%m-%d %H:%M}</td><td>{html.escape(status)}</td><td>{html.escape(stage or '')}</td>"
        f"<td>{html.escape(error or '')}</td></tr>"
        for started, _, status, stage, error, *_ in failed
    )
    table = (
        '<table class="failures"><caption>Runs that failed or were interrupted (marts.sync_runs)</caption>'
        f"<tr><th>started (UTC)</th><th>status</th><th>stage</th><th>error</th></tr>{rows}</table>"
        if failed
        else "<p>No run failed or was interrupted.</p>"
    )
    return f'<div class="morning"><ul>{lines}</ul>{table}</div>'


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _weeks(first: date, count: int) -> list[date]:
    return [first + timedelta(weeks=n) for n in range(count)]


def weekly_chart(weeks: list[tuple[Any, int]]) -> go.Figure:
    """Every week from the first booking's to the last one's, a week with none drawn as zero."""
    counts = {_as_date(week): n for week, n in weeks}
    x = _weeks(min(counts), (max(counts) - min(counts)).days // 7 + 1) if counts else []
    figure = go.Figure(go.Bar(x=x, y=[counts.get(week, 0) for week in x], name="bookings"))
    return _layout(figure, "Future bookings per week (weeks start Monday, calendar-local time)", "week of", "bookings")


def revenue_by_month_chart(months: list[tuple[Any, Decimal, Decimal]]) -> go.Figure:
    """Both sources of money, stacked to the total collected: order revenue by the order's month, appointment
    payments by the appointment's."""
    x = [month for month, _, _ in months]
    figure = go.Figure(
        [
            go.Bar(name="order revenue", x=x, y=[float(o) for _, o, _ in months], marker_color="#2c7fb8"),
            go.Bar(name="appointment payments", x=x, y=[float(p) for _, _, p in months], marker_color="#27ae60"),
        ]
    )
    figure.update_layout(barmode="stack")
    title = "Revenue by month: order revenue (month ordered) + appointment payments (month of the appointment)"
    return _layout(figure, title, "month", "$ collected")


def rates_by_month_chart(months: list[tuple[Any, int, int, int]]) -> go.Figure:
    """Past appointments per month: cancellations over bookings, no-shows over bookings not canceled."""
    x = [month for month, *_ in months]
    cancel = [100 * c / b if b else None for _, b, c, _ in months]
    no_show = [100 * n / (b - c) if b - c else None for _, b, c, n in months]
    figure = go.Figure(
        [
            go.Scatter(name="cancellation rate", x=x, y=cancel, mode="lines+markers"),
            go.Scatter(name="no-show rate", x=x, y=no_show, mode="lines+markers"),
        ]
    )
    return _layout(figure, "Cancellation and no-show rates by month (past appointments)", "month", "% of bookings")


def weekday_hour_chart(cells: list[tuple[int, int, int]]) -> go.Figure:
    hours = list(range(24))
    counts = {(day, hour): n for day, hour, n in cells}
    z = [[counts.get((day, hour), 0) for hour in hours] for day in range(1, 8)]
    figure = go.Figure(go.Heatmap(z=z, x=hours, y=list(WEEKDAYS), colorscale="Blues", colorbar={"title": "bookings"}))
    figure.update_yaxes(autorange="reversed")
    return _layout(figure, "Bookings by weekday and hour (calendar-local time, all history)", "hour", "weekday")


def utilisation_chart(
    rows: list[tuple[str, Any, Decimal]], calendars: list[str], first_week: date, weeks: int
) -> go.Figure:
    """Whole weeks (Monday to Sunday) around as-of's week, each calendar on every week, an empty week at zero."""
    x = _weeks(first_week, weeks)
    hours = {(calendar, _as_date(week)): float(value) for calendar, week, value in rows}
    figure = go.Figure(
        [
            go.Scatter(name=calendar, x=x, y=[hours.get((calendar, week), 0.0) for week in x], mode="lines+markers")
            for calendar in sorted(set(calendars) | {calendar for calendar, _, _ in rows if calendar is not None})
        ]
    )
    title = "Booked hours per calendar and week (whole weeks: 8 before as-of's week, it, and 8 after)"
    return _layout(figure, title, "week of", "booked hours")


Money = tuple[bool, str | None, str | None, str | None, Decimal, Decimal]


def revenue_chart(rows: list[Money]) -> go.Figure:
    """The top contacts by total collected, each bar split into order revenue and appointment payments, and, always,
    the money that matches no contact: a zero there is good news worth seeing."""
    contacts = [row for row in rows if not row[0]][:TOP_CONTACTS]
    bucket = [row for row in rows if row[0]]
    shown = sorted(contacts + bucket, key=lambda row: row[4] + row[5])  # plotly draws the first bar at the bottom
    labels = [
        "unmatched orders and appointments" if is_bucket else _person(first, last, email)
        for is_bucket, first, last, email, *_ in shown
    ]
    figure = go.Figure(
        [
            go.Bar(name="order revenue", x=[float(row[4]) for row in shown], y=labels, orientation="h",
                   marker_color="#2c7fb8"),
            go.Bar(name="appointment payments", x=[float(row[5]) for row in shown], y=labels, orientation="h",
                   marker_color="#27ae60"),
        ]
    )  # fmt: skip
    figure.update_layout(barmode="stack", height=max(320, 28 * len(shown) + 120))
    title = f"Top {TOP_CONTACTS} contacts by total collected (order revenue + appointment payments), and unmatched"
    return _layout(figure, title, "$ collected", "contact")


def match_rule_chart(rules: list[tuple[str, int]]) -> go.Figure:
    figure = go.Figure(go.Pie(labels=[rule for rule, _ in rules], values=[n for _, n in rules], sort=False, hole=0.4))
    return _layout(figure, "Future appointments by match rule", "", "")


def runs_chart(runs: list[tuple[Any, ...]]) -> go.Figure:
    """Each run at the time it started: where the appointments it read went (stacked, none of them lost), and the
    runs that failed or were interrupted as red marks, their error on hover."""
    done = [run for run in runs if run[2] == "success"]
    figure = go.Figure(
        [
            go.Bar(name=words, x=[run[0] for run in done], y=[run[6 + i] or 0 for run in done], marker_color=colour)
            for i, (_, words, colour) in enumerate(RUN_BUCKETS)
        ]
    )
    failed = [run for run in runs if run[2] != "success"]
    if failed:
        figure.add_trace(
            go.Scatter(
                name="failed or interrupted",
                x=[run[0] for run in failed],
                y=[0] * len(failed),
                mode="markers",
                marker={"color": "#e74c3c", "symbol": "x", "size": 12},
                hovertext=[f"{run[2]} at {run[3]}: {run[4]}" for run in failed],
            )
        )
    figure.update_layout(barmode="stack")
    return _layout(
        figure, "Runs: where the appointments each run read went, and runs that failed", "run", "appointments"
    )


def render_html(sections: list[TenantCharts], generated_at: datetime) -> str:
    """The page; plotly.js is inlined once, before the first chart, and never fetched."""
    parts = []
    first = True
    for section in sections:
        parts.append(f"<h2>Tenant {html.escape(section.tenant_id)}</h2>{section.morning}")
        parts.append(f"<p>{html.escape(section.headline)}</p>")
        if section.money:
            lines = "".join(f"<li>{html.escape(line.strip())}</li>" for line in section.money)
            parts.append(f'<div class="morning money"><ul>{lines}</ul></div>')
        for figure in section.figures:
            chart = figure.to_html(full_html=False, include_plotlyjs=first, config={"displaylogo": False})
            parts.append(f'<div class="chart">{chart}</div>')
            first = False
    body = "\n".join(parts) or "<p>The warehouse holds no successful sync yet: run <code>make pipeline</code>.</p>"
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Acuity ELT report</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1100px; color: #222; }}
.chart {{ margin: 1.5rem 0; border-top: 1px solid #ddd; }}
footer {{ color: #777; font-size: 0.85rem; }}
.morning ul {{ list-style: none; padding-left: 0; font-family: ui-monospace, monospace; white-space: pre-wrap; }}
.failures {{ border-collapse: collapse; font-size: 0.9rem; }}
.failures td, .failures th {{ border: 1px solid #ddd; padding: 0.2rem 0.5rem; text-align: left; }}
</style>
</head>
<body>
<h1>Acuity ELT report</h1>
{body}
<footer>Generated {generated_at:%Y-%m-%d %H:%M} UTC from the warehouse marts. Works offline.</footer>
</body>
</html>
"""


def build_report(output: Path) -> Path:
    """Read the marts, write the page to ``output``; a missing DuckDB warehouse is a one-line error."""
    target = warehouses.current()
    if target.target == "duckdb":
        published = analyst_path(published_warehouse())
        if not published.exists():
            raise PipelineError(f"no warehouse at {published}: run `make pipeline` first")
        connection = duckdb.connect(str(published), read_only=True)
    else:
        connection = target.connect()
    try:
        sections = read_tenant_charts(connection)
    finally:
        connection.close()
    output.parent.mkdir(parents=True, exist_ok=True)
    # readable by the owner and ACUITY_FILE_GROUP only, from its first byte: it lists clients by name
    file_access.write_file(output, render_html(sections, datetime.now(UTC)).encode(), file_access.current())
    return output


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m transform.report", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--output",
        type=Path,
        help="HTML file to write (default: report.html beside the warehouse, i.e. warehouse/report.html)",
    )
    args = parser.parse_args(argv)
    try:
        path = build_report(args.output or default_output())
    except PipelineError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    from transform.tools import which_copy

    postgres = warehouses.current().target == "postgres"
    copy = "the PostgreSQL warehouse" if postgres else str(analyst_path(published_warehouse()))
    demo = " (the embedded demo's: no real account has been published yet)" if which_copy() else ""
    print(f"Wrote {path} from {copy}{demo}")
    return 0


def _layout(figure: go.Figure, title: str, x_title: str, y_title: str) -> go.Figure:
    figure.update_layout(title=title, template="plotly_white", margin={"l": 60, "r": 30})
    if x_title or y_title:
        figure.update_layout(xaxis_title=x_title, yaxis_title=y_title)
    figure.update_yaxes(automargin=True)
    return figure


def _rows(connection: Any, sql: str) -> list[tuple[Any, ...]]:
    cursor = connection.cursor()
    cursor.execute(sql)
    return cursor.fetchall()


def _person(first: str | None, last: str | None, email: str | None) -> str:
    """Name and email: two contacts can share a name, and a shared label would merge their bars."""
    name = " ".join(part for part in (first, last) if part) or "(no name)"
    return f"{name} · {email}" if email else name


def _money(value: Any) -> str:
    return f"{Decimal(str(value or 0)):,.2f}"


def _as_date(value: Any) -> date:
    return value.date() if isinstance(value, datetime) else value


if __name__ == "__main__":
    sys.exit(main())
