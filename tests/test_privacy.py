"""Personal data (issue 26): a forgotten person leaves no byte behind and stays forgotten; health data stays out of a
HIPAA-enabled account's warehouse; analysts can get a copy without who; files are their owners' (and a group's); the
retention drops old history. Every test drives the sandbox over HTTP into real DuckDB files and reads the result the
way an auditor would: rows through SQL, and every byte of every file."""

from __future__ import annotations

import grp
import json
import os
import re
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from helpers import PROJECT, Env, pipeline_env, sandbox_env

from sandbox.faults import Fault
from transform import erasures, forget, paths
from transform.publish import publish
from transform.report import build_report

# The sandbox client forgotten below (person 280 of the seed account): one client record, seven appointments (four
# with intake forms, one future), two orders; her appointments carry a second email and her phone written three ways.
EMAILS = ("stephanie_perez96@icloud.com", "sperez@northwind.io")
PHONE = "3109227939"
SPELLINGS = ("(310) 922-7939", "+1 (310) 922-7939")
NAME = "stephanie perez"


def holding(root: Path, needles: tuple[str, ...]) -> dict[str, list[str]]:
    """For each needle, the files under ``root`` whose bytes hold it (case ignored; as typed or JSON-escaped)."""
    found: dict[str, list[str]] = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink()):
        data = path.read_bytes().lower()
        for needle in needles:
            if needle.lower().encode() in data or json.dumps(needle)[1:-1].lower().encode() in data:
                found.setdefault(needle, []).append(str(path.relative_to(root)))
    return found


def versions_naming_her(path: Path) -> int:
    """Raw versions of clients, appointments and orders, and quarantined payloads, that carry her email, phone or
    name (as stored: the name in two columns, the phone written any way)."""
    person = (
        f"lower(trim(email)) in {EMAILS} or regexp_replace(phone, '[^0-9]', '', 'g') like '%{PHONE}'"
        f" or (lower(trim(first_name)) = 'stephanie' and lower(trim(last_name)) = 'perez')"
    )
    with duckdb.connect(str(path), read_only=True) as connection:
        counts = [
            connection.execute(f"select count(*) from raw_acuity.{table} where {person}").fetchone()[0]
            for table in ("clients", "appointments", "orders")
        ]
        payloads = connection.execute(
            "select count(*) from raw_acuity.rejected_records where lower(payload) like '%stephanie%perez%'"
        ).fetchone()[0]
    return sum(counts) + payloads


def her_duplicates(rows: list[dict]) -> list[dict]:
    """/clients with her record twice: the copy is set aside (rejected_records keeps its payload)."""
    return [*rows, *(row for row in rows if row.get("email", "").strip().lower() == EMAILS[0])]


def her_payments(rows: list[dict]) -> list[dict]:
    """/appointments with her the biggest payer, so the report's top clients name her (and the scan must find her)."""
    return [
        {**row, "amountPaid": "99999.00"} if str(row.get("email", "")).strip().lower() == EMAILS[0] else row
        for row in rows
    ]


def test_a_forgotten_client_leaves_no_byte_behind_and_a_later_sync_stores_her_anonymised(
    env: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    env.server.inject(Fault(status=200, times=10**6, mangle=her_duplicates, path="/clients"))
    env.server.inject(Fault(status=200, times=10**6, mangle=her_payments, path="/appointments", exact=True))
    assert env.sync().failures == []
    build_report(env.warehouse.with_name("report.html"))
    needles = (*EMAILS, PHONE, *SPELLINGS, NAME)
    root = env.warehouse.parent
    before = holding(root, needles)
    # the scan sees her: in the warehouse, the analysts' copy and the report, and in a quarantined payload
    assert {"acuity.duckdb", "analyst.duckdb", "report.html"} <= set(before[EMAILS[0]]), before
    assert NAME in before and versions_naming_her(env.warehouse) > 0
    truth_before = env.query("select count(*), sum(order_revenue) from marts.contacts")

    done = subprocess.run(
        [sys.executable, "-m", "transform", "forget", "--tenant", "default", "--email", "-"],
        input=" Stephanie_Perez96@iCloud.com \n",  # as an operator might type it, from stdin: not in shell history
        env=pipeline_env(env.server, env.warehouse),
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=600,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    assert "verified" in done.stdout and not holding_text(done.stdout + done.stderr, needles)
    assert holding(root, needles) == {}  # every byte of every file: warehouse, copy, report, state, dlt, dbt
    assert versions_naming_her(env.warehouse) == 0 and versions_naming_her(paths.analyst_path(env.warehouse)) == 0
    # not a blind scan: other clients are still there, as bytes of the rewritten file
    assert holding(root, ("jasonandersen51@comcast.net",)) != {}
    # her rows stay, anonymous: every count, the revenue and each future appointment's match rule are unchanged
    env.assert_marts_equal_ground_truth()
    assert env.query("select count(*), sum(order_revenue) from marts.contacts") == truth_before
    (erasure,) = erasures.read(env.warehouse)
    assert erasure.verified and erasure.tenant_id == "default" and erasure.hashes and len(erasure.appointment_ids) == 7
    # what only the owner may read: the warehouse, its state, the copy and the report (no ACUITY_FILE_GROUP)
    modes = {path.name: stat.S_IMODE(path.stat().st_mode) for path in root.iterdir()}
    assert modes == {
        ".acuity.duckdb.state": 0o700,
        "acuity.duckdb": 0o600,
        "analyst.duckdb": 0o400,
        "report.html": 0o600,
    }
    assert stat.S_IMODE((erasures.folder(env.warehouse) / "salt").stat().st_mode) == 0o600

    # she still exists in Acuity, and the next sync reads her again: stored anonymised, and the counts conserve
    capsys.readouterr()
    assert env.sync().failures == []

    assert holding(root, needles) == {} and versions_naming_her(env.warehouse) == 0
    assert "records of forgotten people stored anonymised" in capsys.readouterr().out
    env.assert_marts_equal_ground_truth()
    fetched, attempted, skipped = env.query(
        "select fetched, appointments_attempted, appointments_skipped_total from marts.sync_metrics"
    )[0]
    assert fetched == attempted + skipped > 0

    # undone: the next sync stores her as Acuity sends her
    assert forget.undo(forget.Request("default", phone="+1 310 922 7939")) == 0
    assert erasures.forgotten(env.warehouse, "default") is None


def holding_text(text: str, needles: tuple[str, ...]) -> list[str]:
    return [needle for needle in needles if needle.lower() in text.lower()]


# ---- one sync of a HIPAA-enabled account, published pseudonymised and readable by a group -------------------------


def a_group() -> int:
    """A group the files can be given to: not our own primary group when we may choose (root, or a member)."""
    mine = os.getegid()
    choices = [g.gr_gid for g in grp.getgrall()] if os.geteuid() == 0 else os.getgroups()
    return next((gid for gid in choices if gid != mine), mine)


GROUP = a_group()


@pytest.fixture(scope="module")
def hipaa_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    with (
        pytest.MonkeyPatch.context() as monkeypatch,
        sandbox_env(tmp_path_factory.mktemp("hipaa"), monkeypatch) as world,
    ):
        world.account.sign_baa()  # /me says isHIPAA: true
        monkeypatch.setenv("ACUITY_PSEUDONYMISED_COPY", "1")
        monkeypatch.setenv("ACUITY_FILE_GROUP", str(GROUP))
        assert world.sync().failures == []
        build_report(world.warehouse.with_name("report.html"))
        yield world


# versions of clients, appointments and orders holding an intake-form answer or a note
HEALTH_STORED = """
    select (select count(*) from raw_acuity.appointments where coalesce(notes, '') <> ''
            or coalesce(forms_text, '') <> '' or coalesce(cast(forms as varchar), '[]') <> '[]')
        + (select count(*) from raw_acuity.clients where coalesce(notes, '') <> '')
        + (select count(*) from raw_acuity.orders where coalesce(notes, '') <> '')
"""


def test_a_hipaa_enabled_account_keeps_form_answers_and_notes_out_by_default(hipaa_env: Env) -> None:
    truth = hipaa_env.account
    answered = [a for a in truth.iter_appointments() if a.forms]
    noted = [c.notes for c in truth.iter_clients() if c.notes] + [a.notes for a in truth.iter_appointments() if a.notes]
    assert answered and noted  # the account has health data to leave out

    assert hipaa_env.query(HEALTH_STORED) == [(0,)]
    assert hipaa_env.scalar("select count(*) from marts.appointment_form_answers") == 0
    assert holding(hipaa_env.warehouse.parent, tuple(set(noted))) == {}
    # the records themselves all load: nothing is skipped for leaving its health data out
    hipaa_env.assert_marts_equal_ground_truth()


def test_the_pseudonymised_copy_lets_analysts_count_without_seeing_who(hipaa_env: Env) -> None:
    copy = paths.analyst_path(hipaa_env.warehouse)
    clients = list(hipaa_env.account.iter_clients())
    identities = {c.email.strip().lower() for c in clients if c.email.strip()}
    identities |= {re.sub(r"\D", "", c.phone)[-10:] for c in clients if len(re.sub(r"\D", "", c.phone)) >= 7}
    identities |= {f"{c.first_name} {c.last_name}".strip().lower() for c in clients}

    with duckdb.connect(str(copy), read_only=True) as connection:
        schemas = {r[0] for r in connection.execute("select table_schema from information_schema.tables").fetchall()}
        texts = _every_text(connection)
        names = connection.execute("select distinct first_name, last_name from marts.contacts").fetchall()
        counted = connection.execute(COUNTS).fetchall()
        keys = connection.execute("select contact_id, email, phone from marts.contacts order by 1").fetchall()

    assert schemas == {"marts"}  # no raw, staging, intermediate or seed tables
    assert not [text for text in texts if any(identity in text.lower() for identity in identities)]
    assert holding(copy.parent, ("jasonandersen51@comcast.net",)) == {
        "jasonandersen51@comcast.net": ["acuity.duckdb"]
    }  # the private warehouse holds it; the copy does not
    assert all(
        re.fullmatch(r"([A-Z]\.)?", first or "") and re.fullmatch(r"([A-Z]\.)?", last or "") for first, last in names
    )
    # what analysts count is what the private warehouse counts: people, distinct emails, revenue, joins by person
    assert counted == hipaa_env.query(COUNTS)
    # the keys are stable: the next publish gives every contact the same ones
    publish(hipaa_env.warehouse)
    with duckdb.connect(str(copy), read_only=True) as connection:
        assert connection.execute("select contact_id, email, phone from marts.contacts order by 1").fetchall() == keys


COUNTS = """
    select (select count(*) from marts.contacts), (select count(distinct email) from marts.contacts),
        (select count(distinct phone) from marts.contacts), (select sum(order_revenue) from marts.contacts),
        (select count(*) from marts.appointments a join marts.contacts c using (tenant_id, contact_id)),
        (select count(*) from marts.orders o join marts.contacts c using (tenant_id, contact_id))
"""


def _every_text(connection: duckdb.DuckDBPyConnection) -> list[str]:
    texts = []
    for schema, table, column in connection.execute(
        "select table_schema, table_name, column_name from information_schema.columns where data_type = 'VARCHAR'"
    ).fetchall():
        texts += [
            r[0] for r in connection.execute(f'select distinct "{column}" from {schema}.{table}').fetchall() if r[0]
        ]
    return texts


def test_files_are_readable_by_their_owner_and_the_group_only(hipaa_env: Env) -> None:
    root = hipaa_env.warehouse.parent
    state = paths.state_dir(hipaa_env.warehouse)
    expected = {
        hipaa_env.warehouse: 0o640,
        paths.analyst_path(hipaa_env.warehouse): 0o440,  # read-only on disk, as before
        hipaa_env.warehouse.with_name("report.html"): 0o640,
        state: 0o2750,
    }
    for path, mode in expected.items():
        assert (path.name, stat.S_IMODE(path.stat().st_mode), path.stat().st_gid) == (path.name, mode, GROUP)
    assert stat.S_IMODE((erasures.folder(hipaa_env.warehouse) / "salt").stat().st_mode) == 0o600  # the owner's
    # nothing the run wrote, down to dlt's and dbt's files, is open to others
    for path in [root, *root.rglob("*")]:
        assert not path.lstat().st_mode & stat.S_IRWXO, path


# ---- retention, and health data left out of a warehouse that already holds it -------------------------------------

LONE_EMAIL = "jasonandersen51@comcast.net"  # a client with no appointment or order: her email is on one record only


def flagged_appointment(rows: list[dict]) -> list[dict]:
    """/appointments with one more record whose type id is no number: it loads, flagged (a payload is kept)."""
    return [*rows, {**rows[0], "id": 990001, "appointmentTypeID": "abc"}] if rows else rows


def test_the_retention_drops_old_superseded_versions_and_payloads_and_omitting_health_data_empties_history(
    env: Env,
) -> None:
    env.server.inject(Fault(status=200, times=10**6, mangle=flagged_appointment, path="/appointments", exact=True))
    assert env.sync().failures == []
    env.account.change_client_email(LONE_EMAIL, "jason.andersen@example.net")
    assert env.sync().failures == []
    # the version the email change superseded, and the first run's payloads, are made 400 days old
    with duckdb.connect(str(env.warehouse)) as connection:
        connection.execute(
            "update raw_acuity.clients set _dlt_valid_from = _dlt_valid_from - interval 400 day,"
            " _dlt_valid_to = _dlt_valid_to - interval 400 day where _dlt_valid_to is not null"
        )
        first_run = connection.execute("select min(_dlt_load_id) from raw_acuity.rejected_records").fetchone()[0]
        connection.execute(
            "update raw_acuity.rejected_records set _dlt_load_id = '1600000000.000000' where _dlt_load_id = ?",
            [first_run],
        )
    notes = tuple({a.notes for a in env.account.iter_appointments() if a.notes})
    root = env.warehouse.parent
    assert holding(root, (LONE_EMAIL, *notes)).keys() == {LONE_EMAIL, *notes}  # the scan sees both, before
    noted = sum(1 for client in env.account.iter_clients() if client.notes)

    env.monkeypatch.setenv("ACUITY_RETENTION_DAYS", "365")
    env.account.sign_baa()  # and health data is left out from now on (ACUITY_HEALTH_DATA=auto)
    assert env.sync().failures == []

    # the version superseded long ago (the old email) is gone, from the rows and from every byte of every file; the
    # versions this run superseded (each client with a note now has one without) are within the retention: kept
    assert env.scalar(f"select count(*) from raw_acuity.clients where trim(email) = '{LONE_EMAIL}'") == 0
    assert holding(root, (LONE_EMAIL,)) == {}
    assert env.scalar("select count(*) from raw_acuity.clients where _dlt_valid_to is not null") == noted
    # payloads older than the retention are dropped (their rows stay); newer ones keep all but the health data
    payloads = env.query("select _dlt_load_id = '1600000000.000000', payload from raw_acuity.rejected_records")
    assert {old for old, payload in payloads if payload is None} == {True}
    kept = [json.loads(payload) for old, payload in payloads if not old]
    assert kept and all(record.get(key) in (None, "", []) for record in kept for key in ("forms", "formsText", "notes"))
    # health data is gone from every version stored before, and from the file's bytes
    assert env.query(HEALTH_STORED) == [(0,)]
    assert env.scalar("select count(*) from marts.appointment_form_answers") == 0
    assert holding(root, notes) == {}
    # what is kept still tells the right story: every run is on record, the marts reconcile with Acuity
    assert env.scalar("select count(*) from marts.sync_runs") == 3
    env.assert_marts_equal_ground_truth()
