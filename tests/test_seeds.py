"""seeds/ as an operator uses them: each kind of row — assign a record, keep a record apart, ignore a placeholder
identifier, a tenant's phone country code, which order statuses are revenue — changes the marts at the next run, and
the row analyses/unmatched_to_fix.sql proposes fixes the record it names."""

from __future__ import annotations

import csv
import os
import shutil
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from helpers import Env

from transform import warehouse as warehouses
from transform.dbt import run_dbt, target_path
from transform.paths import PROJECT_DIR


def append(path: Path, *rows: list[object]) -> None:
    with path.open("a", newline="") as file:
        csv.writer(file, lineterminator="\n").writerows(rows)


def unmatched_to_fix(env: Env) -> list[dict[str, object]]:
    outcome = run_dbt(["compile", "--select", "unmatched_to_fix"], warehouses.current())
    assert outcome.success, outcome.failures
    sql = (target_path() / "compiled" / "acuity" / "analyses" / "unmatched_to_fix.sql").read_text()
    with duckdb.connect(str(env.warehouse), read_only=True) as connection:
        cursor = connection.execute(sql)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


@pytest.fixture
def seeds(env: Env) -> Iterator[Path]:
    """A copy of seeds/ the test edits. dbt takes seed paths relative to the project (it writes each seed's SQL to
    target/run/<seed path>, over the CSV itself for an absolute one), so the copy lives in the git-ignored target/."""
    folder = Path("target") / f"test-seeds-{os.getpid()}"
    shutil.copytree(PROJECT_DIR / "seeds", PROJECT_DIR / folder)
    env.monkeypatch.setenv("ACUITY_SEEDS_DIR", str(folder))
    try:
        yield PROJECT_DIR / folder
    finally:
        shutil.rmtree(PROJECT_DIR / folder, ignore_errors=True)


def test_each_kind_of_seed_row_takes_effect(env: Env, seeds: Path) -> None:
    assert env.sync().failures == []

    # what the first build says, and the targets of the overrides
    upcoming = [r for r in unmatched_to_fix(env) if r["record_type"] == "appointment" and r["is_upcoming"]]
    assert len(upcoming) == 1 and upcoming[0]["fix_seed"] == "seeds/contact_assignments.csv"
    fix_row = str(upcoming[0]["fix_row"])
    target_key, target_id = env.query(
        "select merge_identifier, contact_id from marts.contacts where merge_rule = 'single' order by 1 limit 1"
    )[0]
    fix_row = fix_row.replace("<merge_identifier from marts.contacts>", target_key)
    assigned_to = fix_row.split(",")[3]
    order_id = env.scalar("select min(order_id) from marts.orders where match_rule = 'email'")
    merged_key, shared_phone, name = env.query(
        """select c.merge_identifier, c.phone, lower(c.first_name || ' ' || c.last_name) from marts.contacts c
           where c.merge_rule = 'email+phone' order by 1 limit 1"""
    )[0]
    ignored_email = env.scalar(
        "select email from marts.appointments where match_rule = 'email' group by 1 order by count(*) desc, 1 limit 1"
    )
    shared_phone = env.scalar(
        f"""select min(phone_raw) from staging.stg_acuity__clients
            where phone_normalised = '{shared_phone}' and email_normalised is null"""
    )  # as the operator sees it in Acuity: the seed value is normalised like the tenant's phones
    contacts_before = env.scalar("select count(*) from marts.contacts")
    unpaid = env.scalar("select sum(order_total) from marts.orders where order_status = 'unpaid'")
    revenue_before = env.scalar("select total_revenue from marts.revenue_reconciliation")
    uk_phones = env.scalar("select count(*) from marts.contacts where phone like '44%'")
    assert unpaid > 0

    with (seeds / "contact_assignments.csv").open("a") as file:
        file.write(fix_row + "\n")
    append(seeds / "contact_assignments.csv", ["default", "order", order_id, target_key, "gift for a friend"])
    append(seeds / "contacts_kept_apart.csv", ["default", "phone", shared_phone, name.upper(), "a namesake"])
    append(seeds / "ignored_identifiers.csv", ["*", "email", ignored_email.upper(), "front desk placeholder"])
    statuses = seeds / "order_statuses.csv"
    statuses.write_text(statuses.read_text().replace("unpaid,false", "unpaid,true"))
    append(seeds / "tenant_settings.csv", ["default", "44"])

    assert env.sync().failures == []

    # assign: the appointment and the order show 'manual' and the contact named
    appointment = env.query(
        f"""select a.match_rule, c.merge_identifier from marts.appointments a
            join marts.contacts c using (tenant_id, contact_id) where a.appointment_id = {upcoming[0]["record_id"]}"""
    )
    assert appointment == [("manual", assigned_to)]
    assert env.query(f"select match_rule, contact_id from marts.orders where order_id = {order_id}") == [
        ("manual", target_id)
    ]
    assert env.scalar("select count(*) from marts.future_appointments where match_rule = 'unmatched'") == 0
    # keep apart: the record that joined by phone is a contact of its own, labelled manual
    kept = env.query("select merge_rule, client_records from marts.contacts where merge_identifier like 'manual:%'")
    assert kept == [("manual", 1)]
    # ignore: the placeholder email matches no appointment and names no contact
    assert env.scalar(f"select count(*) from marts.appointments where email = '{ignored_email}'") > 0
    assert (
        env.scalar(f"select count(*) from marts.appointments where email = '{ignored_email}' and match_rule = 'email'")
        == 0
    )
    assert env.scalar(f"select count(*) from marts.contacts where email = '{ignored_email}'") == 0
    assert env.scalar("select count(*) from marts.contacts where merge_rule = 'manual'") >= 2
    assert env.scalar("select count(*) from marts.contacts") >= contacts_before + 1
    assert merged_key not in {
        r[0] for r in env.query("select merge_identifier from marts.contacts where merge_rule = 'email+phone'")
    }
    # order statuses: unpaid orders now count as revenue, and the totals still add up
    revenue = env.query("select total_revenue, matched_revenue, unmatched_revenue from marts.revenue_reconciliation")[0]
    assert revenue[0] == revenue_before + Decimal(unpaid) and revenue[0] == revenue[1] + revenue[2]
    # tenant settings: national numbers get the UK code, and phones still match bookings
    assert env.scalar("select count(*) from marts.contacts where phone like '44%'") > uk_phones + 100  # 342 here
    assert env.scalar("select count(*) from marts.appointments where match_rule = 'phone'") > 0
