"""``make report`` as a reader sees it: the HTML built from a synced sandbox warehouse, rendered by headless Chromium
with no network needed, must show every chart (plotly draws them as SVG) and load nothing from the internet."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest
from helpers import Env

from sandbox.catalog import CALENDARS as CALENDAR_LIST
from sandbox.catalog import PROFILE
from transform import report
from transform.summary import format_summary, read_summaries

TITLES = (
    "Future bookings per week",
    "Revenue by month: order revenue (month ordered) + appointment payments (month of the appointment)",
    "Cancellation and no-show rates by month",
    "Bookings by weekday and hour",
    "Booked hours per calendar and week",
    "Top 15 contacts by total collected",
    "Future appointments by match rule",
    "Runs: where the appointments each run read went",
)
CHARTS = len(TITLES)  # per tenant
CALENDARS = {c.id: c for c in CALENDAR_LIST}


@pytest.fixture(scope="module")
def report_file(synced_env: Env, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("report") / "report.html"
    assert report.main(["--output", str(path)]) == 0
    return path


def chromium(page: Path, tmp_path: Path, *args: str) -> str:
    """Headless Chromium on a file:// URL, isolated (own profile, no background traffic); returns its stdout."""
    binary = shutil.which("chromium")
    if binary is None:
        pytest.fail("chromium is not installed: `make chromium` installs it (Debian's package)")
    command = [
        binary,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
        "--virtual-time-budget=10000",
        *args,
        page.as_uri(),
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=True).stdout


def test_report_is_self_contained(report_file: Path) -> None:
    page = report_file.read_text()
    assert not re.search(r"<(script|link)\b[^>]*\b(src|href)\s*=\s*[\"']?(https?:)?//", page, re.IGNORECASE)
    assert "Plotly.newPlot" in page and "Tenant default" in page


@pytest.mark.browser
def test_chromium_draws_every_chart(report_file: Path, tmp_path: Path) -> None:
    dom = chromium(report_file, tmp_path, "--dump-dom")
    assert len(re.findall(r'<div class="chart">', dom)) == CHARTS
    assert dom.count('class="main-svg"') >= CHARTS, "plotly drew fewer charts than the page holds"
    assert "unmatched orders and appointments" in dom, "the top contacts chart shows the unmatched bucket"
    assert "appointment payments" in dom and "order revenue" in dom, "both sources of money are drawn"
    for title in TITLES:
        assert title in dom, f"chart {title!r} is not drawn"
    for bucket in ("future, matched to a contact", "before as-of (kept as history)", "future, canceled (kept)"):
        assert bucket in dom, f"where appointments went: {bucket!r} is not in the runs chart's legend"
    assert "Skipped appointments" not in dom, "nothing the runs read is drawn as lost"
    assert "since the last run" in dom and "today and tomorrow" in dom, "the page opens with the morning view"
    assert "% of bookings" in dom and "booked hours" in dom


@pytest.mark.browser
def test_screenshot_is_not_blank(report_file: Path, tmp_path: Path) -> None:
    screenshot = tmp_path / "report.png"
    chromium(report_file, tmp_path, "--window-size=1200,3000", f"--screenshot={screenshot}")
    assert screenshot.stat().st_size > 50_000, "a blank page compresses to a few kB"


def test_summary_lines_match_the_marts_they_name(synced_env: Env) -> None:
    """Each number of the summary's first lines is what the mart the line names holds."""
    with duckdb.connect(str(synced_env.warehouse), read_only=True) as connection:
        (summary,) = read_summaries(connection)
        text = format_summary(summary)
        scalar = lambda sql: connection.execute(sql).fetchone()  # noqa: E731
        future, unmatched = scalar(
            "select count(*), count(*) filter (where match_rule = 'unmatched') from marts.future_appointments"
        )
        people = scalar("select count(*) from marts.contacts")[0]
        orders, matched, unmatched_orders, paying, payments, matched_payments, unmatched_payments, total, payers = (
            scalar(
                """select total_revenue, matched_revenue, unmatched_revenue, contacts_with_revenue,
                          appointment_payments, matched_appointment_payments, unmatched_appointment_payments,
                          total_collected, contacts_paying
                   from marts.revenue_reconciliation"""
            )
        )
    lines = text.splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("  marts.future_appointments"))
    assert first > 1 and lines[1].startswith("  since the last run:"), "the morning view comes first"
    assert lines[first] == (
        f"  marts.future_appointments: {future:,} appointments — {future - unmatched:,} matched to a contact,"
        f" {unmatched:,} with no matching contact"
    )
    assert lines[first + 1].startswith(f"  marts.contacts: {people:,} people, from ")
    assert lines[first + 2].startswith("  marts.revenue_reconciliation, money")
    money = {line.split("$")[0].strip(): line for line in lines[first + 3 : first + 6]}
    dollars = lambda line: [Decimal(a.replace(",", "")) for a in re.findall(r"\$([\d,.]+)", line)]  # noqa: E731
    amounts = {term: dollars(line) for term, line in money.items()}
    assert amounts == {
        "order revenue": [orders, matched, unmatched_orders],
        "appointment payments": [payments, matched_payments, unmatched_payments],
        "total collected": [total],
    }
    assert f"from {paying:,} contacts" in money["order revenue"] and f"({payers:,} contacts" in money["total collected"]
    assert re.fullmatch(r"  requests: \d+ \(\d+ rate-limited, retried\)", lines[first + 7])


def test_revenue_chart_draws_both_sources_month_by_month(synced_env: Env) -> None:
    """Order revenue by the month ordered and appointment payments by the month of the appointment, as the sandbox's
    records say, stacked to the total collected."""
    expected: dict[date, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for order in synced_env.account.iter_orders():
        if order.status in ("paid", "delivered"):
            expected[order.time.astimezone(ZoneInfo(PROFILE.timezone)).date().replace(day=1)][0] += float(order.total)
    for appt in synced_env.account.iter_appointments():
        start = appt.start.astimezone(ZoneInfo(CALENDARS[appt.calendar_id].timezone))
        expected[start.date().replace(day=1)][1] += float(appt.amount_paid)
    with duckdb.connect(str(synced_env.warehouse), read_only=True) as connection:
        (section,) = report.read_tenant_charts(connection)
    chart = next(f for f in section.figures if f.layout.title.text.startswith("Revenue by month"))
    drawn: dict[date, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for source, trace in enumerate(chart.data):
        for month, amount in zip(trace.x, trace.y, strict=True):
            drawn[month][source] += amount
    assert [trace.name for trace in chart.data] == ["order revenue", "appointment payments"]
    assert drawn.keys() == {month for month, (o, a) in expected.items() if o or a}
    assert all(drawn[month] == pytest.approx(expected[month]) for month in drawn)


def test_missing_warehouse_is_one_line_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ACUITY_WAREHOUSE", str(tmp_path / "absent.duckdb"))
    monkeypatch.delenv("ACUITY_TARGET", raising=False)

    assert report.main(["--output", str(tmp_path / "report.html")]) == 1

    error = capsys.readouterr().err
    assert error.startswith("error: no warehouse at ") and error.count("\n") == 1
    assert not (tmp_path / "report.html").exists()
