"""Real Acuity answers over HTTP: shapes our emulator never sent before (keys left out, types that vary, times in
other ISO forms, Acuity's own documented example) and broken records publish, each record accounted for in a mart or
in rejected_records, and one account's bad records change nothing for another; a short answer retires nothing
Acuity did not confirm deleted; a bad ``/me`` is refused before anything is written."""

from __future__ import annotations

import csv
import os
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
from helpers import AS_OF, USER_ID, Env, assert_marts_equal_ground_truth

from extract.config import settings_from_env
from sandbox import Fault, SandboxServer, build_account
from transform.paths import PROJECT_DIR
from transform.run import run

DAY = (AS_OF + timedelta(days=10)).isoformat()
START = f"{DAY}T10:00:00-0500"  # a future start on a New York calendar
# Acuity's own example answer (developers docs, GET /appointments; the community OpenAPI's getAppointment example):
# no calendarTimezone, datetimeCreated, priceSold, canceled, noShow, category, and a calendar we do not know
DOCUMENTED = {
    "id": 990001, "firstName": "Bob", "lastName": "McTest", "phone": "", "email": "bob.mctest@example.com",
    "date": "June 17, 2013", "time": "10:15am", "endTime": "11:15am", "dateCreated": "July 2, 2013",
    "datetime": START, "price": "10.00", "paid": "no", "amountPaid": "0.00", "type": "Regular Visit",
    "appointmentTypeID": 1, "duration": "60", "calendar": "My Calendar", "calendarID": 27238,
    "canClientCancel": False, "canClientReschedule": False, "location": "", "formsText": "...", "notes": "Notes",
    "confirmationPage": "https://acuityscheduling.com/schedule.php?owner=11145481&action=appt",
    "timezone": "America/New_York",
    "forms": [{"id": 1, "name": "Example Intake Form", "values": [
        {"value": "yes", "name": "Is this your first visit?", "fieldID": 1, "id": 21502993},
        {"value": "Ninja", "name": "What is your goal for this appointment?", "fieldID": 2, "id": 21502994},
    ]}],
    "labels": [{"id": 3, "name": "Completed", "color": "pink"}],
}  # fmt: skip
CURRENT = "(select count(*) from raw_acuity.{table} where tenant_id = 'real' and _dlt_valid_to is null)"
ORDER = {
    "firstName": "Testy",
    "lastName": "McTest",
    "phone": "",
    "email": "test@example.com",
    "title": "Gift",
    "notes": "",
}
VANITY_CLIENT = {"firstName": "Flo", "lastName": "Wers", "email": "", "phone": "1-800-FLOWERS", "notes": ""}


def hostile_appointments(rows: list[Any]) -> list[Any]:
    """The answer plus records in every shape the issue names, built on Acuity's documented example placed on one of
    the sandbox's calendars and types (the same whatever answer it is added to)."""
    if not isinstance(rows, list):
        return rows
    template = {
        **{k: v for k, v in DOCUMENTED.items() if k not in ("forms", "labels")},
        "calendarID": 4102201,
        "calendar": "Dr. Maya Ellison",
        "appointmentTypeID": 18204411,
        "type": "Initial Consultation",
    }

    def record(key: int | str, **changes: Any) -> dict[str, Any]:
        row = {**template, "id": key, **changes}
        return {k: v for k, v in row.items() if v is not _GONE}

    return [
        *rows,
        {**DOCUMENTED},
        record(990002, calendarID=None, calendar="Jordan Reyes"),
        record(990003, calendarID=_GONE, calendar="Nobody's Calendar"),
        record(990004, calendarID="abc", calendar="Priya Nair"),
        record(990005, type=None, appointmentTypeID=18204413),
        record(990006, datetime=f"{DAY}T15:00:00.250Z"),
        record(990007, datetime=f"{DAY}T10:00-05:00"),
        record(990008, datetime=f"{DAY}T10:00:00"),
        record(990009, datetime="next tuesday"),
        record(990010, forms=BROKEN_FORMS),
        record(990011, labels=[{"id": None, "name": "x"}, {"id": 5, "name": None}, {"id": 5, "name": "dup"}]),
        record(990012, classID=123, time="14:15", notes="line one\r\nline two"),
        record("990013"),
        record(990014, firstName="Junk", lastName="Hauler", email="", phone="1-800-GOT-JUNK"),
        record(990015, firstName="Some", lastName="One", email="", phone="(800) 356-9377"),
        record(990016, canceled=False, amountPaid=_GONE, paid=_GONE),
    ]


_GONE = object()
BROKEN_FORMS = [
    {"id": 1, "name": None, "values": [
        {"fieldID": 1, "name": None, "value": "a"}, {"fieldID": 1, "value": "b"}, {"fieldID": "x", "value": "c"},
    ]},
    "junk",
    {"id": "2", "values": [{"fieldID": 2, "name": "", "value": "d"}]},
]  # fmt: skip


def hostile_orders(rows: list[Any]) -> list[Any]:
    if not isinstance(rows, list):
        return rows
    template = {**ORDER, "status": "paid", "time": "2026-11-01 10:00", "total": "50.00", "title": "Gift Card"}
    return [
        *rows,
        {**template, "id": 880001, "time": None},
        {**template, "id": 880002, "time": "yesterday"},
        {**template, "id": 880003, "status": "refunded"},
        {**template, "id": "880004"},
        {k: v for k, v in {**template, "id": 880005}.items() if k != "status"},
    ]


@pytest.fixture
def seeds(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A copy of seeds/ the test edits, relative to the project as dbt needs (see tests/test_seeds.py)."""
    folder = Path("target") / f"test-seeds-real-{os.getpid()}"
    shutil.copytree(PROJECT_DIR / "seeds", PROJECT_DIR / folder)
    monkeypatch.setenv("ACUITY_SEEDS_DIR", str(folder))
    try:
        yield PROJECT_DIR / folder
    finally:
        shutil.rmtree(PROJECT_DIR / folder, ignore_errors=True)


def test_real_shapes_and_broken_records_publish_and_every_record_is_accounted_for(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, seeds: Path
) -> None:
    """Tenant `real` gets every shape and broken record of the issue, tenant `calm` none: both publish, `calm` equals
    its ground truth, every record of `real` is in a mart or in rejected_records, and each one's fallback or flag is
    the documented one. Then the operator lists the unknown order status in the seed and it counts at once."""
    real, calm = build_account("seed", 42, AS_OF), build_account("seed", 7, AS_OF)
    with (
        SandboxServer({USER_ID: ("key-r", real)}) as real_server,
        SandboxServer({USER_ID: ("key-c", calm)}) as calm_server,
    ):
        for path, mangle in (
            ("/appointments", hostile_appointments),
            ("/orders", hostile_orders),
            ("/clients", lambda rows: [*rows, VANITY_CLIENT] if isinstance(rows, list) else rows),
        ):
            real_server.inject(Fault(status=200, times=10**6, mangle=mangle, path=path))
        tenants = workdir / "tenants.toml"
        tenants.write_text(
            f'[tenants.real]\nuser_id = "{USER_ID}"\nbase_url = "{real_server.base_url}"\n'
            f'[tenants.calm]\nuser_id = "{USER_ID}"\nbase_url = "{calm_server.base_url}"\n'
        )
        monkeypatch.setenv("ACUITY_API_KEY_REAL", "key-r")
        monkeypatch.setenv("ACUITY_API_KEY_CALM", "key-c")
        monkeypatch.setenv("ACUITY_PAGE_SIZE", "5000")  # one answer: added rows cannot move paging's cursor

        report = run(settings_from_env(AS_OF.isoformat()), tenants_file=str(tenants))

        assert report.failures == [] and report.published is not None
        with duckdb.connect(str(workdir / "acuity.duckdb"), read_only=True) as connection:
            query = lambda sql: connection.execute(sql).fetchall()  # noqa: E731
            assert_marts_equal_ground_truth(query, calm, "calm")
            flags = {
                (resource, record_id, reason)
                for resource, record_id, reason in query(
                    "select resource, record_id, reason from marts.rejected_records where tenant_id = 'real'"
                )
            }
            future = {
                row[0]: row[1:]
                for row in query(
                    """select appointment_id, calendar_id, calendar, timezone, appointment_type, starts_at_utc,
                              match_rule from marts.future_appointments where tenant_id = 'real'
                              and appointment_id between 990001 and 990099"""
                )
            }
            answers = query(
                "select form_id, field_id, form_name, field_name, answer from marts.appointment_form_answers"
                " where tenant_id = 'real' and appointment_id = 990010 order by 1, 2"
            )
            labels = query(
                "select label_id, label_name from marts.appointment_labels where tenant_id = 'real'"
                " and appointment_id = 990011"
            )
            orders = {
                row[0]: row[1:]
                for row in query(
                    "select order_id, counts_as_revenue, ordered_at_local is null from marts.orders"
                    " where tenant_id = 'real' and order_id between 880001 and 880099"
                )
            }
            balance = query(
                """select fetched_appointments, fetched_orders, fetched_clients from raw_acuity.sync_runs
                   where tenant_id = 'real'"""
            )[0]
            loaded = query(
                f"select {', '.join(CURRENT.format(table=t) for t in ('appointments', 'orders', 'clients'))}"
            )[0]
            skipped = dict(
                query(
                    """select resource, count(*) from raw_acuity.rejected_records
                       where tenant_id = 'real' and action = 'skipped' group by 1"""
                )
            )

        ny, chicago, la = "America/New_York", "America/Chicago", "America/Los_Angeles"
        hour = {990006: 15, 990007: 15, 990008: 15}  # 10:00 in New York, 15:00 UTC
        assert future[990001][:4] == (27238, "My Calendar", ny, "Regular Visit"), "the documented example, as is"
        assert future[990002][:3] == (4102202, "Jordan Reyes", chicago), "calendar id from its name"
        assert future[990003][:3] == (None, "Nobody's Calendar", ny), "no calendar: the account's zone"
        assert future[990004][:3] == (4102203, "Priya Nair", la)
        assert future[990005][3] == "Deep Tissue Massage", "type from its appointment type"
        for key, utc_hour in hour.items():
            assert future[key][4].hour == utc_hour and future[key][4].isoformat()[:10] == DAY, key
        assert {990012, 990013, 990016} <= set(future), "real shapes load as they mean"
        assert future[990014][5] == "unmatched", "a vanity number never merges with another"
        assert future[990015][5] == "phone", "1 (800) 356-9377 is 1-800-FLOWERS"
        assert 990009 not in future
        assert flags >= {
            ("appointments", "990002", "missing_calendarID"),
            ("appointments", "990003", "missing_calendarID"),
            ("appointments", "990004", "invalid_int_calendarID"),
            ("appointments", "990005", "missing_type"),
            ("appointments", "990006", "datetime_normalised_datetime"),
            ("appointments", "990007", "datetime_normalised_datetime"),
            ("appointments", "990008", "datetime_without_offset_datetime"),
            ("appointments", "990009", "invalid_datetime"),
            ("appointments", "990010", "invalid_forms"),
            ("appointments", "990010", "duplicate_form_field"),
            ("appointments", "990011", "invalid_labels"),
            ("appointments", "990011", "duplicate_label"),
            ("orders", "880001", "missing_time"),
            ("orders", "880002", "invalid_datetime_time"),
            ("orders", "880003", "unknown_status"),
            ("orders", "880005", "missing_status"),
        }
        clean = {"990001", "990012", "990013", "990014", "990015", "990016", "880004"}
        assert not {f for f in flags if f[1] in clean}, "real shapes are not faults"
        assert not {f for f in flags if f[1] is None or not f[1].startswith(("99", "88"))}, "nothing else flagged"
        assert answers == [(1, 1, "", "", "a"), (2, 2, "", "", "d")]
        assert labels == [(5, "")]
        assert orders == {
            880001: (True, True),
            880002: (True, True),
            880003: (False, False),
            880004: (True, False),
            880005: (False, False),
        }
        # the conservation law: every record fetched is current in raw or quarantined
        assert balance[0] == loaded[0] + skipped.get("appointments", 0)
        assert balance[1:] == loaded[1:] and set(skipped) == {"appointments"}

        # the operator lists the status: it counts from the next run on, without a flag
        with (seeds / "order_statuses.csv").open("a", newline="") as file:
            csv.writer(file, lineterminator="\n").writerow(["Refunded", "true"])
        report = run(settings_from_env((AS_OF + timedelta(days=1)).isoformat()), tenants_file=str(tenants))

    assert report.failures == []
    with duckdb.connect(str(workdir / "acuity.duckdb"), read_only=True) as connection:
        assert connection.execute("select counts_as_revenue from marts.orders where order_id = 880003").fetchall() == [
            (True,)
        ]
        assert connection.execute(
            "select count(*) from marts.rejected_records where record_id = '880003'"
        ).fetchall() == [(0,)]


def test_a_short_answer_retires_nothing_until_acuity_confirms_a_deletion(env: Env) -> None:
    """An answer that lost most of its records (appointments, orders, clients) publishes what it read, retires
    nothing, says so in one line and fails; the next normal run confirms by id: the one appointment really deleted is
    retired, the one rescheduled from an unread date to an already read one between two requests is loaded where it
    is now, and the marts equal the sandbox's ground truth."""
    assert env.sync().failures == []
    removed_before = env.scalar("select count(*) from raw_acuity.appointments where _dlt_valid_to is not null")
    for path, keep in (("/appointments", 1), ("/orders", 1), ("/clients", 3)):  # the list endpoints, not by id
        env.server.inject(Fault(200, 10**6, mangle=lambda rows, keep=keep: rows[:keep], path=path, exact=True))
    env.monkeypatch.setenv("ACUITY_PAGE_SIZE", "5000")
    env.monkeypatch.setenv("ACUITY_CONFIRM_BUDGET", "20")  # fewer than the orders missing

    report = env.sync()

    assert report.published is not None, "what was read is published"
    lines = [line for line in report.failures if "none was retired" in line]
    assert len(lines) == len(report.failures) == 1 and "ACUITY_CONFIRM_BUDGET" in lines[0]
    assert env.scalar("select count(*) from raw_acuity.appointments where _dlt_valid_to is not null") == removed_before
    assert env.scalar("select count(*) from marts.appointments where status = 'removed'") == 0
    assert env.scalar("select count(*) from marts.orders where is_removed") == 0
    held = env.query(
        """select appointments_held, orders_held, clients_held, retirement_held is not null
           from raw_acuity.sync_runs order by started_at desc limit 1"""
    )[0]
    assert held[0] > 100 and held[1] > 10 and held[2] > 100 and held[3]
    env.server.clear_faults()
    env.monkeypatch.delenv("ACUITY_CONFIRM_BUDGET")

    deleted = env.account.delete_days_old(20)
    # reschedule, between the window's first two requests, an appointment not read yet to a day already read
    env.monkeypatch.setenv("ACUITY_PAGE_CEILING", "150")
    env.monkeypatch.setenv("ACUITY_PAGE_SIZE", "150")
    late = next(a for a in env.account.iter_appointments() if not a.canceled and a.start.date() > AS_OF + timedelta(60))
    early = env.account.appointment_days_old(80).start
    moves = iter(
        [lambda: None, lambda: env.account.reschedule(late.id, early)]
    )  # the slice's request, then the window's
    move = Fault(status=200, times=2, mangle=lambda rows: (next(moves)(), rows)[1], path="/appointments", exact=True)
    env.server.inject(move)

    assert env.sync().failures == []

    removed = {r[0] for r in env.query("select appointment_id from marts.appointments where status = 'removed'")}
    assert removed == {deleted}
    assert (
        env.scalar(f"select starts_at_raw from staging.stg_acuity__appointments where appointment_id = {late.id}")
        == (env.account.appointment(late.id)["datetime"])
    )
    assert env.query(
        "select appointments_retired, appointments_found >= 1, appointments_held, orders_held, clients_held,"
        " retirement_held from raw_acuity.sync_runs order by started_at desc limit 1"
    ) == [(1, True, 0, 0, 0, None)]
    env.assert_marts_equal_ground_truth()


@pytest.mark.parametrize("bad_id", [{"id": 10001}, 10001.0, True])  # the rest: tests/unit/test_contract.py
def test_a_me_answer_without_a_usable_account_id_is_refused_before_anything_is_written(env: Env, bad_id: Any) -> None:
    """Refused in one line, with no advice to delete anything; only the failed run's own row is recorded."""
    env.server.inject(Fault(status=200, times=1, mangle=lambda me: {**me, "id": bad_id}, path="/me"))

    report = env.sync()

    (line,) = report.failures
    assert "account id" in line and "positive integer" in line and "nothing was written" in line
    assert "delete" not in line
    with duckdb.connect(str(env.warehouse), read_only=True) as connection:
        tables = {r[0] for r in connection.execute("select table_name from information_schema.tables").fetchall()}
    assert not tables & {"appointments", "clients", "orders", "account", "calendars", "appointment_types"}


def test_after_a_refused_me_the_next_run_syncs_and_an_id_sent_as_text_is_that_account(env: Env) -> None:
    """A bad /me never wedges the tenant: it recorded nothing, so the next (correct) run is not refused."""
    env.server.inject(Fault(status=200, times=1, mangle=lambda me: {**me, "id": 10001.0}, path="/me"))
    assert len(env.sync().failures) == 1
    env.server.inject(Fault(status=200, times=1, mangle=lambda me: {**me, "id": str(me["id"])}, path="/me"))

    assert env.sync().failures == []

    assert env.query("select acuity_user_id from staging.stg_acuity__account") == [(int(USER_ID),)]
