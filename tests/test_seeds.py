"""seeds/ as an operator uses them, on a warehouse of two tenants (north and south: the same account twice, so a row
that leaked into the other tenant would show). Each kind of seed row — assign a record, keep a record apart, ignore a
placeholder identifier (for one tenant, and for every tenant with `*`), which order statuses are revenue, a tenant's
phone country code — changes at the next run exactly the rows the sandbox's oracle (sandbox/seeds.py,
sandbox/matching.py) says it must; the row analyses/unmatched_to_fix.sql proposes fixes the record it names; a row
that names no contact is reported on its own line; and a seed edit that fails a seed's own test fails the build and
leaves the analysts' copy as it was.

One module-wide world, three runs of both tenants: with the shipped seeds, with one row of each kind, and with a
broken edit. The tests only read what the runs left."""

from __future__ import annotations

import contextlib
import csv
import io
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest
from helpers import AS_OF, isolate
from test_tenants_and_postgres import write_tenants

from extract.config import settings_from_env
from sandbox import Account, SandboxServer, build_account
from sandbox.seeds import Seeds
from transform import warehouse as warehouses
from transform.dbt import run_dbt, target_path
from transform.paths import PROJECT_DIR, analyst_path
from transform.run import RunReport, report_run, run

TENANTS = {"north": "1", "south": "2"}
NOBODY = "email:nobody@nowhere.example"
# (seed file, row): one seed row as an operator adds it; order_statuses rows replace the row of their status
Edit = tuple[str, tuple[str, ...]]
Snapshot = dict[str, dict[Any, Any]]


def write_seeds(folder: Path, edits: list[Edit]) -> Path:
    """The shipped seeds/ with ``edits`` applied, in ``folder``."""
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(PROJECT_DIR / "seeds", folder)
    for name, row in edits:
        path = folder / f"{name}.csv"
        if name == "order_statuses":
            kept = [r for r in csv.reader(path.read_text().splitlines()) if r[0] != row[0]]
            path.write_text("".join(",".join(r) + "\n" for r in [*kept, list(row)]))
        else:
            with path.open("a", newline="") as file:
                csv.writer(file, lineterminator="\n").writerow(row)
    return folder


def expected(account: Account, seeds: Seeds) -> Snapshot:
    """What the marts must show for one tenant, by the oracle: each record's contact (by merge identifier) and rule,
    each contact's merge rule and order revenue, the revenue totals."""
    truth = account.ground_truth(seeds=seeds)
    return {
        "appointments": truth["appointment_matches"],
        "orders": truth["order_matches"],
        "contacts": truth["contacts"],
        "order_revenue": truth["order_revenue_by_contact"],
        "totals": {"revenue": (truth["revenue_total"], truth["unmatched_revenue"], truth["contacts_with_revenue"])},
    }


def snapshot(warehouse: Path, tenant: str) -> Snapshot:
    """The same, as one tenant's marts show it."""
    with duckdb.connect(str(warehouse), read_only=True) as connection:

        def pairs(sql: str) -> dict[Any, Any]:
            return {
                row[0]: row[1] if len(row) == 2 else row[1:] for row in connection.execute(sql, [tenant]).fetchall()
            }

        by_contact = "left join marts.contacts c using (tenant_id, contact_id) where r.tenant_id = ?"
        return {
            "appointments": pairs(
                f"""select r.appointment_id, c.merge_identifier, r.match_rule from marts.appointments r {by_contact}
                    and r.status <> 'removed'"""
            ),
            "orders": pairs(f"select r.order_id, c.merge_identifier, r.match_rule from marts.orders r {by_contact}"),
            "contacts": pairs("select merge_identifier, merge_rule from marts.contacts where tenant_id = ?"),
            "order_revenue": pairs(
                f"select c.merge_identifier, r.order_revenue from marts.contact_revenue r {by_contact}"
            ),
            "totals": pairs(
                """select 'revenue', total_revenue, unmatched_revenue, contacts_with_revenue
                   from marts.revenue_reconciliation where tenant_id = ?"""
            ),
        }


@dataclass
class World:
    accounts: dict[str, Account]
    edits: list[Edit]  # the rows the second run read, beside the shipped seeds
    baseline: dict[str, Snapshot]
    after: dict[str, Snapshot]
    targets: dict[str, Any]  # what the rows aim at
    after_output: list[str]  # what the second run printed
    broken: RunReport
    broken_output: str
    published: tuple[bytes, bytes]  # the analysts' copy before and after the broken run

    def oracle(self, tenant: str, edits: list[Edit], tmp: Path) -> Snapshot:
        return expected(self.accounts[tenant], Seeds.read(write_seeds(tmp / "oracle-seeds", edits), tenant))

    def row_takes_effect(self, edit: Edit, tmp: Path, scope: tuple[str, ...] = ("north",)) -> dict[str, Snapshot]:
        """What the oracle says ``edit`` changes in each tenant of its ``scope`` beside the other rows (all rows
        against all but this one): something, and the marts show exactly those values. In the other tenant the same
        records show what its own rows make of them. Returns {tenant: {part: {key: (without the row, with it)}}}."""
        everything = {tenant: self.oracle(tenant, self.edits, tmp) for tenant in TENANTS}
        changes: dict[str, Snapshot] = {}
        for tenant, values in everything.items():
            without = self.oracle(tenant, [e for e in self.edits if e != edit], tmp)
            changes[tenant] = {
                part: {k: (without[part].get(k), new.get(k)) for k in differing(without[part], new)}
                for part, new in values.items()
            }
            assert any(changes[tenant].values()) == (tenant in scope), f"{edit} in {tenant}"
        keys = {part: set().union(*(changes[t][part] for t in TENANTS)) for part in everything["north"]}
        for tenant, values in everything.items():
            marts = {part: {k: self.after[tenant][part].get(k) for k in ks} for part, ks in keys.items()}
            assert marts == {part: {k: values[part].get(k) for k in ks} for part, ks in keys.items()}, tenant
        return changes


def differing(before: dict[Any, Any], after: dict[Any, Any]) -> set[Any]:
    return {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}


def unmatched_to_fix(warehouse: Path, tenant: str) -> list[dict[str, Any]]:
    """The analysis an operator reads to find the seed rows to add."""
    outcome = run_dbt(["compile", "--select", "unmatched_to_fix"], warehouses.current())
    assert outcome.success, outcome.failures
    sql = (target_path() / "compiled" / "acuity" / "analyses" / "unmatched_to_fix.sql").read_text()
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        cursor = connection.execute(sql)
        names = [d[0] for d in cursor.description]
        return [
            row for row in (dict(zip(names, r, strict=True)) for r in cursor.fetchall()) if row["tenant_id"] == tenant
        ]


def choose_rows(warehouse: Path) -> tuple[list[Edit], dict[str, Any]]:
    """One row of each kind, aimed from what the first run shows, as an operator would."""
    upcoming = [
        r for r in unmatched_to_fix(warehouse, "north") if r["record_type"] == "appointment" and r["is_upcoming"]
    ]
    assert len(upcoming) == 1 and upcoming[0]["fix_seed"] == "seeds/contact_assignments.csv"
    with duckdb.connect(str(warehouse), read_only=True) as connection:

        def one(sql: str) -> Any:
            return connection.execute(sql).fetchall()[0]

        (target,) = one(
            "select min(merge_identifier) from marts.contacts where tenant_id = 'north' and merge_rule = 'single'"
        )
        (order_id,) = one("select min(order_id) from marts.orders where tenant_id = 'north' and match_rule = 'email'")
        (other_appointment,) = one(
            "select max(appointment_id) from marts.appointments where tenant_id = 'north' and match_rule = 'email'"
        )
        shared_phone, name = one(
            """select min(s.phone_raw), lower(c.first_name || ' ' || c.last_name) from marts.contacts c
               join staging.stg_acuity__clients s on s.tenant_id = c.tenant_id and s.phone_normalised = c.phone
                   and s.email_normalised is null
               where c.tenant_id = 'north' and c.merge_rule = 'email+phone' group by all order by 1 limit 1"""
        )  # as the operator sees it in Acuity: the seed value is normalised like the tenant's phones
        busiest = connection.execute(
            f"""select a.email from marts.appointments a join marts.contacts c using (tenant_id, contact_id)
                where a.tenant_id = 'north' and a.match_rule = 'email' and c.merge_rule = 'single'
                    and c.merge_identifier <> '{target}'
                group by 1 order by count(*) desc, 1 limit 2"""
        ).fetchall()
    fix_row = next(csv.reader([str(upcoming[0]["fix_row"]).replace("<merge_identifier from marts.contacts>", target)]))
    edits: list[Edit] = [
        ("contact_assignments", tuple(fix_row)),
        ("contact_assignments", ("north", "order", str(order_id), target, "gift for a friend")),
        ("contact_assignments", ("north", "appointment", str(other_appointment), NOBODY, "a contact that never was")),
        ("contacts_kept_apart", ("north", "phone", shared_phone, name.upper(), "a namesake")),
        ("ignored_identifiers", ("north", "email", busiest[0][0].upper(), "front desk placeholder")),
        ("ignored_identifiers", ("*", "email", busiest[1][0], "the booking widget's placeholder")),
        ("order_statuses", ("unpaid", "true")),
        ("tenant_settings", ("south", "44")),
        ("contact_assignments", ("north", "appointment", "1", target, "an appointment that never was")),
    ]
    targets = {
        "appointment": upcoming[0]["record_id"],
        "assigned_to": fix_row[3],
        "order": order_id,
        "order_assigned_to": target,
        "nobody_appointment": other_appointment,
        "ignored": {"north": busiest[0][0], "*": busiest[1][0]},
    }
    return edits, targets


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("seeds")
    # dbt takes seed paths relative to the project (it writes each seed's SQL to target/run/<seed path>, over the CSV
    # itself for an absolute one), so the folder the runs read lives in the git-ignored target/
    relative = Path("target") / f"test-seeds-{os.getpid()}"
    folder = PROJECT_DIR / relative
    accounts = {tenant: build_account("seed", 42, AS_OF) for tenant in TENANTS}
    with (
        pytest.MonkeyPatch.context() as monkeypatch,
        SandboxServer({user: (f"key-{t}", accounts[t]) for t, user in TENANTS.items()}) as server,
    ):
        isolate(root, monkeypatch)
        for tenant in TENANTS:
            monkeypatch.setenv(f"ACUITY_API_KEY_{tenant.upper()}", f"key-{tenant}")
        monkeypatch.setenv("ACUITY_SEEDS_DIR", str(relative))
        tenants = str(write_tenants(root / "tenants.toml", server.base_url, TENANTS))
        warehouse = root / "acuity.duckdb"

        def sync(lines: list[str]) -> RunReport:
            return run(settings_from_env(AS_OF.isoformat()), tenants_file=tenants, log=lines.append)

        try:
            write_seeds(folder, [])
            first_output: list[str] = []
            assert sync(first_output).failures == []
            assert not [line for line in first_output if "dbt warning" in line], "the shipped seeds refer to nothing"
            baseline = {tenant: snapshot(warehouse, tenant) for tenant in TENANTS}
            edits, targets = choose_rows(warehouse)
            write_seeds(folder, edits)
            after_output: list[str] = []
            assert sync(after_output).failures == []
            after = {tenant: snapshot(warehouse, tenant) for tenant in TENANTS}

            # an operator's slip: a second settings row for a tenant, which the seed's primary key test refuses
            write_seeds(folder, [*edits, ("tenant_settings", ("south", "1"))])
            published = analyst_path(warehouse).read_bytes()
            broken = sync([])
            printed = io.StringIO()
            with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(io.StringIO()):
                assert report_run(broken) == 1
            yield World(
                accounts=accounts,
                edits=edits,
                baseline=baseline,
                after=after,
                targets=targets,
                after_output=after_output,
                broken=broken,
                broken_output=printed.getvalue(),
                published=(published, analyst_path(warehouse).read_bytes()),
            )
        finally:
            shutil.rmtree(folder, ignore_errors=True)


def test_the_marts_equal_the_oracle_before_and_after_the_seed_rows(world: World, tmp_path: Path) -> None:
    """Nothing but what the rows must change changed, in either tenant."""
    for tenant in TENANTS:
        assert world.baseline[tenant] == world.oracle(tenant, [], tmp_path), tenant
        assert world.after[tenant] == world.oracle(tenant, world.edits, tmp_path), tenant


def test_a_contact_assignment_makes_the_record_manual(world: World, tmp_path: Path) -> None:
    """The row unmatched_to_fix proposes for north's one unmatched upcoming booking, and one moving an order."""
    targets = world.targets
    changes = world.row_takes_effect(world.edits[0], tmp_path)["north"]
    assert changes["appointments"][targets["appointment"]] == ((None, "unmatched"), (targets["assigned_to"], "manual"))
    changes = world.row_takes_effect(world.edits[1], tmp_path)["north"]
    assert changes["orders"][targets["order"]][1] == (targets["order_assigned_to"], "manual")
    assert [i for i, r in world.after["north"]["appointments"].items() if r[1] == "manual"] == [targets["appointment"]]


def test_an_assignment_naming_no_contact_or_no_record_changes_nothing_and_is_reported_on_its_own_line(
    world: World,
) -> None:
    nobody = world.targets["nobody_appointment"]
    assert world.after["north"]["appointments"][nobody] == world.baseline["north"]["appointments"][nobody]
    warnings = sorted(line for line in world.after_output if "dbt warning" in line)
    assert len(warnings) == 2 and not any("\n" in line for line in warnings), world.after_output
    assert "contact_assignments.contact" in warnings[0] and "Got 1 result" in warnings[0]
    assert "contact_assignments.record_id" in warnings[1] and "Got 1 result" in warnings[1]


def test_a_record_kept_apart_is_a_contact_of_its_own(world: World, tmp_path: Path) -> None:
    changes = world.row_takes_effect(world.edits[3], tmp_path)["north"]
    (kept,) = [key for key, (before, _) in changes["contacts"].items() if before is None]
    assert kept.startswith("manual:") and world.after["north"]["contacts"][kept] == "manual"


def test_an_ignored_identifier_of_one_tenant_names_nobody_there(world: World, tmp_path: Path) -> None:
    changes = world.row_takes_effect(world.edits[4], tmp_path)["north"]
    assert changes["contacts"][f"email:{world.targets['ignored']['north']}"] == ("single", None)


def test_an_ignored_identifier_for_every_tenant_names_nobody_anywhere(world: World, tmp_path: Path) -> None:
    changes = world.row_takes_effect(world.edits[5], tmp_path, scope=tuple(TENANTS))
    for tenant in TENANTS:
        assert changes[tenant]["contacts"][f"email:{world.targets['ignored']['*']}"] == ("single", None), tenant


def test_an_order_status_that_counts_as_revenue_changes_the_revenue_of_every_tenant(
    world: World, tmp_path: Path
) -> None:
    changes = world.row_takes_effect(world.edits[6], tmp_path, scope=tuple(TENANTS))
    for tenant in TENANTS:
        before, after = changes[tenant]["totals"]["revenue"]
        assert after[0] > before[0], tenant


def test_a_tenants_phone_country_code_renormalises_its_phones(world: World, tmp_path: Path) -> None:
    changes = world.row_takes_effect(world.edits[7], tmp_path, scope=("south",))["south"]
    assert [key for key, (before, _) in changes["contacts"].items() if before is None and key.startswith("phone:44")]
    assert changes["appointments"], "bookings that matched by a national number match differently"


def test_a_seed_edit_that_fails_its_test_publishes_nothing_and_says_so(world: World) -> None:
    """The publish gate on a run of two tenants: both synced, the build failed on a seed's primary key test."""
    broken = world.broken
    assert [s.status for s in broken.syncs] == ["success", "success"]
    assert broken.dbt is not None and not broken.dbt.success and broken.published is None
    assert [line for line in broken.failures if "tenant_settings" in line], broken.failures
    before, after = world.published
    assert after == before, "the analysts' copy is byte for byte the last good run's"
    lines = world.broken_output.splitlines()
    assert lines.count("Nothing published: the analysts' copy still holds the last good run.") == 1, lines
