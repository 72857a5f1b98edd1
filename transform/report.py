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
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import plotly.graph_objects as go

from transform import warehouse as warehouses
from transform.errors import PipelineError
from transform.paths import analyst_path, published_warehouse

TOP_CONTACTS = 15
SKIP_REASONS = ("historical", "canceled", "unmatched", "missing_time", "invalid_record", "write_failures")
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass
class TenantCharts:
    tenant_id: str
    headline: str
    figures: list[go.Figure]


def default_output() -> Path:
    """Beside the warehouse (``warehouse/report.html`` by default), so a moved warehouse keeps its report."""
    return published_warehouse().with_name("report.html")


# Every query reads marts only and returns tenant_id first; each chart gets the rows of its tenant without it.
QUERIES = {
    "weeks": """
        select tenant_id, cast(date_trunc('week', starts_at_local) as date) as week, count(*)
        from marts.future_appointments group by 1, 2 order by 1, 2
    """,
    "revenue_months": """
        select tenant_id, cast(date_trunc('month', ordered_at_local) as date) as month,
            sum(case when contact_id is not null then order_total else 0 end),
            sum(case when contact_id is null then order_total else 0 end)
        from marts.orders where counts_as_revenue and ordered_at_local is not null group by 1, 2 order by 1, 2
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
            and a.starts_at_utc >= a.as_of - interval '56 days' and a.starts_at_utc < a.as_of + interval '56 days'
        group by 1, 2, 3 order by 1, 2, 3
    """,
    "top_contacts": """
        select tenant_id, false, first_name, last_name, email, order_revenue, contact_id
        from marts.contacts where order_revenue > 0
        union all
        select tenant_id, true, null, null, null, unmatched_revenue, 'unmatched' from marts.revenue_reconciliation
        order by 1, 6 desc, 7
    """,
    "rules": """
        select tenant_id, match_rule, count(*) from marts.future_appointments group by 1, 2 order by 1, 3 desc, 2
    """,
    "skips": f"""
        select tenant_id, as_of, run_id, fetched, {", ".join(f"appointments_skipped_{r}" for r in SKIP_REASONS)}
        from marts.sync_runs order by tenant_id, as_of, run_id
    """,
}


def read_tenant_charts(connection: Any) -> list[TenantCharts]:
    """One section per tenant of the latest runs: a headline and the charts, all from the marts."""
    runs = _rows(
        connection,
        """
        select m.tenant_id, m.as_of, m.future_appointments, m.appointments_persisted, m.appointments_skipped_unmatched,
            r.total_revenue, r.matched_revenue, r.unmatched_revenue, r.contacts_with_revenue
        from marts.sync_metrics as m
        join marts.revenue_reconciliation as r on r.tenant_id = m.tenant_id
        order by m.tenant_id
        """,
    )
    data = {name: _rows(connection, sql) for name, sql in QUERIES.items()}
    sections = []
    for tenant_id, as_of, future, matched, unmatched, total, matched_revenue, unmatched_revenue, paying in runs:
        mine = {name: [row[1:] for row in rows if row[0] == tenant_id] for name, rows in data.items()}
        headline = (
            f"As of {as_of:%Y-%m-%d %H:%M} UTC: {future:,} future appointments ({matched:,} matched to a contact,"
            f" {unmatched:,} unmatched). Revenue ${_money(total)}: ${_money(matched_revenue)} from {paying:,}"
            f" contacts and ${_money(unmatched_revenue)} from orders that match no contact."
        )
        figures = [
            weekly_chart(mine["weeks"]),
            revenue_by_month_chart(mine["revenue_months"]),
            rates_by_month_chart(mine["rate_months"]),
            weekday_hour_chart(mine["weekday_hours"]),
            utilisation_chart(mine["calendar_weeks"]),
            revenue_chart([row[:5] for row in mine["top_contacts"]]),
            match_rule_chart(mine["rules"]),
            skip_reasons_chart(mine["skips"]),
        ]
        sections.append(TenantCharts(tenant_id, headline, figures))
    return sections


def weekly_chart(weeks: list[tuple[Any, int]]) -> go.Figure:
    figure = go.Figure(go.Bar(x=[week for week, _ in weeks], y=[n for _, n in weeks], name="bookings"))
    return _layout(figure, "Future bookings per week (weeks start Monday, calendar-local time)", "week of", "bookings")


def revenue_by_month_chart(months: list[tuple[Any, Decimal, Decimal]]) -> go.Figure:
    x = [month for month, _, _ in months]
    figure = go.Figure(
        [
            go.Bar(name="matched to a contact", x=x, y=[float(m) for _, m, _ in months], marker_color="#2c7fb8"),
            go.Bar(name="unmatched orders", x=x, y=[float(u) for _, _, u in months], marker_color="#c0392b"),
        ]
    )
    figure.update_layout(barmode="stack")
    return _layout(figure, "Revenue by month (orders that count as revenue)", "month", "$")


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


def utilisation_chart(rows: list[tuple[str, Any, Decimal]]) -> go.Figure:
    calendars = sorted({calendar for calendar, _, _ in rows})
    figure = go.Figure(
        [
            go.Scatter(
                name=calendar,
                x=[week for c, week, _ in rows if c == calendar],
                y=[float(hours) for c, _, hours in rows if c == calendar],
                mode="lines+markers",
            )
            for calendar in calendars
        ]
    )
    return _layout(figure, "Booked hours per calendar and week (8 weeks back, 8 ahead)", "week of", "booked hours")


def revenue_chart(rows: list[tuple[bool, str | None, str | None, str | None, Decimal]]) -> go.Figure:
    """The top contacts by order revenue and, always, the unmatched orders: a zero there is good news worth seeing."""
    contacts = [row for row in rows if not row[0]][:TOP_CONTACTS]
    bucket = [row for row in rows if row[0]]
    shown = sorted(contacts + bucket, key=lambda row: row[4])  # plotly draws the first bar at the bottom
    labels = [
        "unmatched orders" if is_bucket else _person(first, last, email) for is_bucket, first, last, email, _ in shown
    ]
    figure = go.Figure(
        go.Bar(
            x=[float(row[4]) for row in shown],
            y=labels,
            orientation="h",
            marker_color=["#c0392b" if row[0] else "#2c7fb8" for row in shown],
        )
    )
    figure.update_layout(height=max(320, 28 * len(shown) + 120))
    return _layout(figure, f"Top {TOP_CONTACTS} contacts by order revenue, and unmatched orders", "$", "contact")


def match_rule_chart(rules: list[tuple[str, int]]) -> go.Figure:
    figure = go.Figure(go.Pie(labels=[rule for rule, _ in rules], values=[n for _, n in rules], sort=False, hole=0.4))
    return _layout(figure, "Future appointments by match rule", "", "")


def skip_reasons_chart(runs: list[tuple[Any, ...]]) -> go.Figure:
    """One panel per skip reason, each on its own scale, so 1 of 2,000 is as visible as 1,890: the share of the
    appointments each run read, runs placed at their as-of on a time axis."""
    from plotly.subplots import make_subplots

    figure = make_subplots(
        rows=len(SKIP_REASONS),
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.03,
        subplot_titles=[reason.replace("_", " ") for reason in SKIP_REASONS],
    )
    for i, reason in enumerate(SKIP_REASONS):
        shares = [100 * (run[3 + i] or 0) / run[2] if run[2] else 0 for run in runs]
        figure.add_trace(
            go.Bar(
                name=reason.replace("_", " "),
                x=[run[0] for run in runs],
                y=shares,
                text=[f"{run[3 + i] or 0:,}" for run in runs],
                hovertext=[run[1] for run in runs],
            ),
            row=i + 1,
            col=1,
        )
        figure.update_yaxes(title_text="% read", row=i + 1, col=1)
    figure.update_layout(height=140 * len(SKIP_REASONS) + 120, showlegend=False)
    figure.update_xaxes(title_text="run (as of)", row=len(SKIP_REASONS), col=1)
    return _layout(figure, "Skipped appointments per run, by reason (% of the appointments the run read)", "", "")


def render_html(sections: list[TenantCharts], generated_at: datetime) -> str:
    """The page; plotly.js is inlined once, before the first chart, and never fetched."""
    parts = []
    first = True
    for section in sections:
        parts.append(f"<h2>Tenant {html.escape(section.tenant_id)}</h2><p>{html.escape(section.headline)}</p>")
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
    output.write_text(render_html(sections, datetime.now(UTC)), encoding="utf-8")
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
    print(f"Wrote {path}")
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


if __name__ == "__main__":
    sys.exit(main())
