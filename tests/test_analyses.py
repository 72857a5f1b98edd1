"""Every ready query in analyses/, compiled by dbt and run on a synced sandbox warehouse, checked against what the
sandbox knows it holds (its records' intent), not against a second copy of the SQL."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import pytest
from helpers import AS_OF, Env

from sandbox.catalog import APPOINTMENT_TYPES, CALENDARS
from sandbox.records import Appointment
from transform import warehouse as warehouses
from transform.dbt import run_dbt, target_path
from transform.paths import PROJECT_DIR

ANALYSES_DIR = PROJECT_DIR / "analyses"
AS_OF_UTC = datetime(AS_OF.year, AS_OF.month, AS_OF.day, tzinfo=UTC)
CALENDAR = {c.id: c for c in CALENDARS}
TYPE = {t.id: t for t in APPOINTMENT_TYPES}

Rows = list[dict[str, Any]]


@pytest.fixture(scope="module")
def compiled(synced_env: Env) -> Path:
    """All analyses compiled in one dbt call (one dbt start-up instead of one per file)."""
    outcome = run_dbt(["compile", "--select", "resource_type:analysis"], warehouses.current())
    assert outcome.success, outcome.failures
    return target_path() / "compiled" / "acuity" / "analyses"


def run_analysis(env: Env, compiled: Path, name: str) -> Rows:
    sql = (compiled / f"{name}.sql").read_text()
    with duckdb.connect(str(env.warehouse), read_only=True) as connection:
        cursor = connection.execute(sql)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def local(appt: Appointment) -> datetime:
    """The appointment's wall-clock start in its calendar's zone, naive, as the warehouse stores starts_at_local."""
    return appt.start.astimezone(ZoneInfo(CALENDAR[appt.calendar_id].timezone)).replace(tzinfo=None)


def held(env: Env) -> list[Appointment]:
    """Booked and not canceled: held or missed (a no-show, which Acuity also marks canceled, took its slot)."""
    return [a for a in env.account.iter_appointments() if a.no_show or not a.canceled]


def check_schedule_next_7_days(env: Env, rows: Rows) -> None:
    week = [a for a in held(env) if AS_OF_UTC <= a.start < AS_OF_UTC + timedelta(days=7)]
    assert week, "the sandbox books appointments in the first week"
    assert [r["appointment_id"] for r in rows] == [a.id for a in sorted(week, key=lambda a: (a.start, a.id))]
    rules = env.account.ground_truth()["future_match_rules"]
    by_id = {a.id: a for a in week}
    for row in rows:
        appt = by_id[row["appointment_id"]]
        assert row["match_rule"] == rules[appt.id]
        assert row["starts_at_local"] == local(appt)
        assert (row["calendar"], row["appointment_type"]) == (CALENDAR[appt.calendar_id].name, TYPE[appt.type_id].name)
        assert (row["contact_email"] is None) == (row["match_rule"] == "unmatched")


def check_cancellation_and_no_show_rates(env: Env, rows: Rows) -> None:
    expected: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for appt in env.account.iter_appointments():
        if appt.start < AS_OF_UTC:
            counts = expected[(CALENDAR[appt.calendar_id].name, TYPE[appt.type_id].name)]
            counts["booked"] += 1
            counts["canceled"] += appt.canceled and not appt.no_show  # a no-show counts once, as a no-show
            counts["no_shows"] += appt.no_show
    got = {
        (r["calendar"], r["appointment_type"]): Counter(
            booked=r["booked"], canceled=r["canceled"], no_shows=r["no_shows"]
        )
        for r in rows
    }
    assert got == {key: Counter({"booked": 0, "canceled": 0, "no_shows": 0, **c}) for key, c in expected.items()}
    assert sum(r["booked"] for r in rows) == env.account.ground_truth()["historical"]
    assert all(0 <= r["cancellation_rate"] <= 1 and 0 <= r["no_show_rate"] <= 1 for r in rows)
    assert any(r["cancellation_rate"] > 0 for r in rows) and any(r["no_show_rate"] > 0 for r in rows)


def check_top_contacts_by_revenue(env: Env, rows: Rows) -> None:
    truth = env.account.ground_truth()
    assert len(rows) == min(20, truth["contacts_with_revenue"])
    assert {r["email"]: r["order_revenue"] for r in rows} == truth["revenue_by_email"]
    assert [r["revenue_rank"] for r in rows] == list(range(1, len(rows) + 1))
    revenue = [r["order_revenue"] for r in rows]
    assert revenue == sorted(revenue, reverse=True)
    assert sum(Decimal(str(r["share_of_revenue"])) for r in rows) == pytest.approx(Decimal(1), abs=Decimal("0.02"))


def check_contacts_without_revenue(env: Env, rows: Rows) -> None:
    truth = env.account.ground_truth()
    assert len(rows) == truth["persons"] - truth["contacts_with_revenue"]
    assert not {r["email"] for r in rows} & set(truth["revenue_by_email"])
    assert sum(r["appointments_upcoming"] for r in rows) <= truth["future_matched"]


def check_unmatched_to_fix(env: Env, rows: Rows) -> None:
    truth = env.account.ground_truth()
    future_unmatched = {i for i, rule in truth["future_match_rules"].items() if rule == "unmatched"}
    assert len(future_unmatched) == truth["future_unmatched"] == 1
    upcoming = {r["record_id"] for r in rows if r["record_type"] == "appointment" and r["is_upcoming"]}
    assert upcoming == future_unmatched
    assert rows[0]["record_id"] in future_unmatched, "upcoming appointments come first"
    appointments = {r["record_id"] for r in rows if r["record_type"] == "appointment"}
    assert appointments == {a.id for a in held(env) if a.person is None}
    orders = {r["record_id"] for r in rows if r["record_type"] == "order"}
    assert orders == {o.id for o in env.account.iter_orders() if o.person is None}
    for row in rows:
        assert row["fix_seed"] == "seeds/contact_assignments.csv"
        assert row["fix_row"].startswith(f"default,{row['record_type']},{row['record_id']},")
        for column in ("email_problem", "phone_problem", "name_problem"):
            assert row[column] in ("missing", "no contact has it") or row[column].startswith("shared by ")


def check_calendar_utilisation(env: Env, rows: Rows) -> None:
    this_week = AS_OF - timedelta(days=AS_OF.weekday())
    weeks = [this_week + timedelta(weeks=offset) for offset in range(-8, 8)]
    expected = {(c.name, week): 0 for c in CALENDARS for week in weeks}
    for appt in held(env):
        day = local(appt).date()
        key = (CALENDAR[appt.calendar_id].name, day - timedelta(days=day.weekday()))
        if key in expected:
            expected[key] += TYPE[appt.type_id].duration
    assert {(r["calendar"], r["week_start"]): r["booked_minutes"] for r in rows} == expected
    assert len(rows) == len(expected)
    assert {r["week_offset"] for r in rows if r["week_start"] == this_week} == {0}
    assert {r["period"] for r in rows if r["week_offset"] < 0} == {"past"}
    assert sum(expected.values()) > 0


def check_new_vs_returning_clients_by_month(env: Env, rows: Rows) -> None:
    months: dict[int, set[date]] = defaultdict(set)
    for appt in held(env):
        if appt.person is not None:
            months[appt.person].add(local(appt).date().replace(day=1))
    expected: dict[date, Counter[str]] = defaultdict(Counter)
    for seen in months.values():
        for month in seen:
            expected[month]["new" if month == min(seen) else "returning"] += 1
    got = {r["month_start"]: (r["new_clients"], r["returning_clients"]) for r in rows}
    assert got == {m: (c["new"], c["returning"]) for m, c in expected.items()}
    assert all(r["clients"] == r["new_clients"] + r["returning_clients"] for r in rows)
    assert sum(r["new_clients"] for r in rows) == len(months)


def check_form_answers_by_month(env: Env, rows: Rows) -> None:
    expected: Counter[tuple[str, date, str]] = Counter()
    for appt in held(env):
        for answer in appt.forms:
            month = local(appt).date().replace(day=1)
            expected[(answer.name, month, " ".join(answer.value.split()) or "(no answer)")] += 1
    assert expected, "the sandbox fills intake forms"
    assert {(r["field_name"], r["month_start"], r["answer"]): r["answers"] for r in rows} == dict(expected)
    shares: dict[tuple[str, date], float] = defaultdict(float)
    for row in rows:
        shares[(row["field_name"], row["month_start"])] += float(row["share_of_month"])
    assert all(abs(total - 1) < 0.01 for total in shares.values())


CHECKS: dict[str, Callable[[Env, Rows], None]] = {
    name.removeprefix("check_"): check for name, check in globals().items() if name.startswith("check_")
}


def test_every_analysis_has_a_check() -> None:
    assert {path.stem for path in ANALYSES_DIR.glob("*.sql")} == set(CHECKS)


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_analysis(synced_env: Env, compiled: Path, name: str) -> None:
    rows = run_analysis(synced_env, compiled, name)
    assert rows, f"{name} returned nothing on the sandbox"
    assert {r["tenant_id"] for r in rows} == {"default"}
    CHECKS[name](synced_env, rows)
