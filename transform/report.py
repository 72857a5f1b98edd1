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
SKIP_REASONS = ("historical", "canceled", "unmatched", "missing_time", "write_failures")


@dataclass
class TenantCharts:
    tenant_id: str
    headline: str
    figures: list[go.Figure]


def default_output() -> Path:
    """Beside the warehouse (``warehouse/report.html`` by default), so a moved warehouse keeps its report."""
    return published_warehouse().with_name("report.html")


def read_tenant_charts(connection: Any) -> list[TenantCharts]:
    """One section per tenant of the latest runs: a headline and the four charts, all from the marts."""
    runs = _rows(
        connection,
        """
        select m.tenant_id, m.run_id, m.as_of, m.future_appointments, m.appointments_skipped_unmatched,
            m.total_revenue, m.unmatched_revenue, m.contacts_with_revenue
        from marts.sync_metrics as m
        order by m.tenant_id
        """,
    )
    weeks = _rows(
        connection,
        """
        select tenant_id, cast(date_trunc('week', starts_at_utc) as date) as week, count(*)
        from marts.future_appointments group by 1, 2 order by 1, 2
        """,
    )
    rules = _rows(
        connection,
        "select tenant_id, match_rule, count(*) from marts.future_appointments group by 1, 2 order by 3 desc, 2",
    )
    revenue = _rows(
        connection,
        """
        select tenant_id, false, first_name, last_name, email, order_revenue, contact_id
        from marts.contacts where order_revenue > 0
        union all
        select tenant_id, true, null, null, null, unmatched_revenue, 'unmatched' from marts.revenue_reconciliation
        order by 1, 6 desc, 7
        """,
    )
    skips = _rows(
        connection,
        f"""
        select tenant_id, run_id, {", ".join(f"appointments_skipped_{reason}" for reason in SKIP_REASONS)}
        from marts.sync_runs order by tenant_id, as_of, run_id
        """,
    )
    sections = []
    for tenant_id, run_id, as_of, future, unmatched, total, unmatched_revenue, paying in runs:
        headline = (
            f"Run {run_id}, as of {as_of:%Y-%m-%d %H:%M} UTC: {future:,} future appointments ({unmatched:,} unmatched),"
            f" ${_money(total)} revenue from {paying:,} contacts (${_money(unmatched_revenue)} unmatched)."
        )
        figures = [
            weekly_chart([row[1:] for row in weeks if row[0] == tenant_id]),
            revenue_chart([row[1:6] for row in revenue if row[0] == tenant_id]),
            match_rule_chart([row[1:] for row in rules if row[0] == tenant_id]),
            skip_reasons_chart([row[1:] for row in skips if row[0] == tenant_id]),
        ]
        sections.append(TenantCharts(tenant_id, headline, figures))
    return sections


def weekly_chart(weeks: list[tuple[Any, int]]) -> go.Figure:
    figure = go.Figure(go.Bar(x=[f"{week:%Y-%m-%d}" for week, _ in weeks], y=[n for _, n in weeks]))
    return _layout(figure, "Future appointments per week (weeks start Monday, UTC)", "week of", "appointments")


def revenue_chart(rows: list[tuple[bool, str | None, str | None, str | None, Decimal]]) -> go.Figure:
    """The top contacts by order revenue and, always, the unmatched bucket: a zero there is good news worth seeing."""
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
    return _layout(figure, f"Order revenue per contact (top {TOP_CONTACTS} and the unmatched bucket)", "$", "")


def match_rule_chart(rules: list[tuple[str, int]]) -> go.Figure:
    figure = go.Figure(go.Pie(labels=[rule for rule, _ in rules], values=[n for _, n in rules], sort=False, hole=0.4))
    return _layout(figure, "Future appointments by match rule", "", "")


def skip_reasons_chart(runs: list[tuple[Any, ...]]) -> go.Figure:
    figure = go.Figure(
        [
            go.Bar(name=reason.replace("_", " "), x=[run[0] for run in runs], y=[run[1 + i] for run in runs])
            for i, reason in enumerate(SKIP_REASONS)
        ]
    )
    figure.update_layout(barmode="stack")
    return _layout(figure, "Skipped appointments per run, by reason", "run", "appointments")


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
    figure.update_layout(
        title=title, xaxis_title=x_title, yaxis_title=y_title, template="plotly_white", margin={"l": 60, "r": 30}
    )
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
