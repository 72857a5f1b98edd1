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

from sandbox.catalog import APPOINTMENT_TYPES, CALENDARS, PROFILE
from sandbox.design import ADDONS_BY_ID as ADDONS
from sandbox.design import duration, price_text
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


def merge_identifiers(env: Env) -> dict[str, str]:
    """contact_id -> merge_identifier, the key the sandbox's ground truth names contacts by."""
    return dict(env.query("select contact_id, merge_identifier from marts.contacts"))


def collected(env: Env) -> dict[str, tuple[Decimal, Decimal]]:
    """Per contact (merge identifier), what the sandbox says it paid: (order revenue, appointment payments)."""
    truth = env.account.ground_truth()
    orders, payments = truth["order_revenue_by_contact"], truth["appointment_payments_by_contact"]
    return {key: (orders[key], payments[key]) for key in payments}


def check_top_contacts_by_revenue(env: Env, rows: Rows) -> None:
    truth, paid, keys = env.account.ground_truth(), collected(env), merge_identifiers(env)
    totals = sorted((order + appointments for order, appointments in paid.values()), reverse=True)
    assert [r["total_collected"] for r in rows] == totals[:20]
    for row in rows:
        assert (row["order_revenue"], row["appointment_payments"]) == paid[keys[row["contact_id"]]]
    assert [r["revenue_rank"] for r in rows] == list(range(1, len(rows) + 1))
    assert any(r["order_revenue"] == 0 for r in rows), "a client who paid only for appointments ranks too"
    tenant = truth["revenue_total"] + truth["appointment_payments"]
    assert sum(Decimal(str(r["share_of_total"])) for r in rows) == pytest.approx(
        sum(totals[:20]) / tenant, abs=Decimal("0.02")
    )


def check_contacts_without_revenue(env: Env, rows: Rows) -> None:
    paid, keys = collected(env), merge_identifiers(env)
    assert sorted(keys[r["contact_id"]] for r in rows) == sorted(k for k, (o, a) in paid.items() if o + a == 0)
    assert any(a > 0 and o == 0 for o, a in paid.values()), "clients who paid only for appointments are not listed"
    assert sum(r["appointments_upcoming"] for r in rows) <= env.account.ground_truth()["future_matched"]


def check_revenue_by_month(env: Env, rows: Rows) -> None:
    expected: dict[date, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for order in env.account.iter_orders():
        if order.status in ("paid", "delivered"):
            expected[order.time.astimezone(ZoneInfo(PROFILE.timezone)).date().replace(day=1)][0] += Decimal(order.total)
    for appt in env.account.iter_appointments():
        if Decimal(appt.amount_paid):
            expected[local(appt).date().replace(day=1)][1] += Decimal(appt.amount_paid)
    got = {r["month_start"]: [r["order_revenue"], r["appointment_payments"]] for r in rows}
    assert got == dict(expected)
    assert all(r["total_collected"] == r["order_revenue"] + r["appointment_payments"] for r in rows)
    truth = env.account.ground_truth()
    assert sum(r["total_collected"] for r in rows) == truth["revenue_total"] + truth["appointment_payments"]


def by_group(env: Env, name: Callable[[Appointment], str]) -> dict[str, list[Any]]:
    """Per group: appointments, held, list price, price sold, discount (held ones) and appointment payments."""
    expected: dict[str, list[Any]] = defaultdict(lambda: [0, 0, Decimal(0), Decimal(0), Decimal(0), Decimal(0)])
    for appt in env.account.iter_appointments():
        counts = expected[name(appt)]
        counts[0] += 1
        counts[5] += Decimal(appt.amount_paid)
        if appt.no_show or not appt.canceled:
            price, sold = Decimal(price_text(appt)), Decimal(appt.price_sold)
            counts[1:5] = counts[1] + 1, counts[2] + price, counts[3] + sold, counts[4] + price - sold
    return expected


def check_revenue_by_appointment_type(env: Env, rows: Rows) -> None:
    columns = ("appointments", "held", "list_price", "price_sold", "discount", "appointment_payments")
    got = {r["appointment_type"]: [r[c] for c in columns] for r in rows}
    assert got == by_group(env, lambda appt: TYPE[appt.type_id].name)
    assert [r["appointment_payments"] for r in rows] == sorted((r["appointment_payments"] for r in rows), reverse=True)


def check_revenue_by_calendar(env: Env, rows: Rows) -> None:
    columns = ("appointments", "held", "list_price", "price_sold", "discount", "appointment_payments")
    assert {r["calendar"]: [r[c] for c in columns] for r in rows} == by_group(
        env, lambda appt: CALENDAR[appt.calendar_id].name
    )
    assert sum(Decimal(str(r["share_of_payments"])) for r in rows) == pytest.approx(Decimal(1), abs=Decimal("0.01"))


def check_discounts_given(env: Env, rows: Rows) -> None:
    expected: dict[str, list[Any]] = defaultdict(lambda: [0, Decimal(0), Decimal(0)])
    for appt in held(env):
        price, sold = Decimal(price_text(appt)), Decimal(appt.price_sold)
        if sold < price:
            counts = expected[appt.certificate or "(no code)"]
            counts[:] = counts[0] + 1, counts[1] + price, counts[2] + price - sold
    assert {r["code"]: [r["appointments"], r["list_price"], r["discount"]] for r in rows} == dict(expected)
    assert {r["discount_share"] for r in rows if r["code"] == "WELCOME20"} == {0.2}


def check_package_use(env: Env, rows: Rows) -> None:
    truth = env.account.ground_truth()["certificates"]
    expected: dict[str, list[Any]] = defaultdict(lambda: [0, 0, Decimal(0), 0, 0])
    totals = {order.id: Decimal(order.total) for order in env.account.iter_orders()}
    for certificate in env.account.iter_certificates():
        _, order_id, uses, _, booked = truth[certificate.code]
        counts = expected[certificate.product.name]
        live = uses and (certificate.expires is None or certificate.expires >= AS_OF_UTC)
        counts[:] = (
            counts[0] + 1,
            counts[1] + bool(booked),
            counts[2] + totals[order_id],
            counts[3] + len(booked),
            counts[4] + (sum(uses.values()) if live else 0),
        )
    columns = ("codes", "codes_used", "sold_for", "appointments_booked")
    got = {r["product"]: [*(r[c] for c in columns), r["uses_left"] or 0] for r in rows}
    assert got == dict(expected)
    assert sum(r["appointments_booked"] for r in rows) > 10 and sum(r["sold_for"] for r in rows) > 0


def check_addon_revenue(env: Env, rows: Rows) -> None:
    expected: dict[str, list[Any]] = defaultdict(lambda: [0, 0, Decimal(0)])
    for appt in env.account.iter_appointments():
        for addon_id in appt.addon_ids:
            addon, counts = ADDONS[addon_id], expected[ADDONS[addon_id].name]
            kept = appt.no_show or not appt.canceled
            counts[:] = counts[0] + kept, counts[1] + (not kept), counts[2] + Decimal(addon.price) * kept
    assert {r["addon"]: [r["held"], r["canceled"], r["held_value"]] for r in rows} == dict(expected)
    assert {r["addon"] for r in rows if r["is_private"]} == {a.name for a in ADDONS.values() if a.private}


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
            expected[key] += duration(appt)  # an add-on's minutes too (Extra 15 Minutes)
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
