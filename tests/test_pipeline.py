"""End to end against the sandbox over HTTP: extract + load + dbt build, compared with the sandbox's ground truth."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import duckdb
from helpers import AS_OF, Env

RAW_TABLES = ("appointments", "clients", "orders", "calendars", "appointment_types", "account")


def raw_counts(env: Env) -> dict[str, int]:
    return {t: env.scalar(f"select count(*) from raw_acuity.{t}") for t in RAW_TABLES}


def latest_metrics(env: Env) -> dict[str, object]:
    rows = env.query(
        """select m.* from marts.sync_metrics m join intermediate.int_acuity__latest_runs r
           on r.tenant_id = m.tenant_id and r.run_id = m.run_id"""
    )
    names = [r[0] for r in env.query("describe marts.sync_metrics")]
    assert len(rows) == 1
    return dict(zip(names, rows[0], strict=True))


def test_full_load_equals_ground_truth(env: Env) -> None:
    report = env.sync()

    assert report.failures == []
    truth = env.account.ground_truth()
    assert truth["future_active"] == 100 and truth["future_matched"] == 99  # the seed tenant's shape
    assert truth["revenue_total"] == Decimal("5856") and truth["contacts_with_revenue"] == 17
    assert env.scalar("select count(*) from staging.stg_acuity__appointments") == truth["appointments"]
    assert env.scalar("select count(*) from staging.stg_acuity__clients") == truth["clients"] == 650
    assert env.scalar("select count(*) from staging.stg_acuity__orders") == truth["orders"]
    env.assert_marts_equal_ground_truth()
    metrics = latest_metrics(env)
    assert metrics["fetched"] == truth["appointments"]
    assert metrics["appointments_skipped_historical"] == truth["historical"]
    by_month = dict(
        env.query("select strftime(starts_at_utc, '%Y-%m'), count(*) from marts.future_appointments group by 1")
    )
    assert by_month == truth["future_by_month"]


def test_rerun_adds_no_raw_rows_and_reads_only_the_live_window(env: Env) -> None:
    env.sync()
    before = raw_counts(env)
    requests_before = len(env.server.request_log)

    report = env.sync()

    assert report.failures == []
    assert raw_counts(env) == before
    first, second = env.query("select window_first, fetched_appointments from raw_acuity.sync_runs order by started_at")
    assert first[0] < second[0], "the second run re-reads the live window, not the whole history"
    assert second[1] < first[1]
    assert len(env.server.request_log) - requests_before <= 8
    env.assert_marts_equal_ground_truth()


def test_every_mutation_is_seen_by_the_next_sync(env: Env) -> None:
    env.sync()
    changes = env.account.mutate_all(rng_seed=7)

    assert env.sync().failures == []

    def appointment(appointment_id: int) -> tuple:
        return env.query(
            f"""select starts_at_raw, is_canceled, is_no_show, is_removed
                from staging.stg_acuity__appointments where appointment_id = {appointment_id}"""
        )[0]

    served = env.account.appointment(changes["rescheduled"])
    assert appointment(changes["rescheduled"])[0] == served["datetime"]
    assert appointment(changes["canceled"])[1] is True
    assert appointment(changes["no_show"])[2] is True
    assert appointment(changes["deleted"])[3] is True
    future_ids = {row[0] for row in env.query("select appointment_id from marts.future_appointments")}
    assert changes["canceled"] not in future_ids and changes["deleted"] not in future_ids
    assert set(changes["booked"]) <= future_ids and changes["rescheduled"] in future_ids
    assert env.query(
        f"select order_status from staging.stg_acuity__orders where order_id = {changes['paid_order']}"
    ) == [("paid",)]
    old_email, new_email = changes["email_changed"]
    emails = {r[0] for r in env.query("select email_normalised from staging.stg_acuity__clients")}
    assert new_email.lower() in emails and old_email.strip().lower() not in emails
    # history is kept: the rescheduled appointment has two versions in raw, the deleted one is retired
    assert env.scalar(f"select count(*) from raw_acuity.appointments where id = {changes['rescheduled']}") == 2
    env.assert_marts_equal_ground_truth()


def test_marts_follow_the_as_of(env: Env) -> None:
    """Advancing time moves appointments from future to historical; the as-of var keeps runs reproducible."""
    env.sync()
    env.account.advance(days=14)

    assert env.sync(as_of="2026-12-08").failures == []

    truth = env.account.ground_truth(datetime(2026, 12, 8, tzinfo=UTC))
    assert latest_metrics(env)["future_appointments"] == truth["future_active"] < 100
    assert str(latest_metrics(env)["as_of"]).startswith("2026-12-08")
    assert AS_OF.isoformat() < "2026-12-08"


def test_a_broken_invariant_fails_the_build_and_names_the_test(env: Env) -> None:
    """Tamper with the warehouse the way a bad model would, and dbt's invariant tests must catch it."""
    from transform import warehouse as warehouses
    from transform.dbt import run_dbt

    env.sync()
    with duckdb.connect(str(env.warehouse)) as connection:
        connection.execute(
            "delete from marts.future_appointments where appointment_id in"
            " (select min(appointment_id) from marts.future_appointments where match_rule = 'email')"
        )
        connection.execute(
            "update marts.contact_revenue set order_revenue = order_revenue + 1 where revenue_key = 'unmatched'"
        )

    outcome = run_dbt(["test", "--select", "marts"], warehouses.current())

    assert not outcome.success
    failed = {line.split(":")[0] for line in outcome.failures}
    assert "assert_persisted_equals_future_matched" in failed
    assert "assert_revenue_reconciles" in failed


def test_dbt_unit_tests_pass(env: Env) -> None:
    """The pipeline's build runs models and data tests; the SQL unit tests (matching precedence, dedup,
    timestamp parsing, normalisation, contact merging) run here, against the same warehouse."""
    from transform import warehouse as warehouses
    from transform.dbt import run_dbt

    env.sync()
    outcome = run_dbt(["test", "--select", "test_type:unit"], warehouses.current())

    assert outcome.success, outcome.failures
    assert outcome.counts == {"pass": 5}
