"""End to end against the sandbox over HTTP: extract + load + dbt build, compared with the sandbox's ground truth."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
import yaml
from helpers import AS_OF, Env

from transform.paths import PROJECT_DIR, analyst_path

MODEL_YAML = sorted((PROJECT_DIR / "models").rglob("*.yml"))
RAW_TABLES = ("appointments", "clients", "orders", "calendars", "appointment_types", "account")


def raw_counts(env: Env) -> dict[str, int]:
    return {t: env.scalar(f"select count(*) from raw_acuity.{t}") for t in RAW_TABLES}


def latest_metrics(env: Env) -> dict[str, object]:
    rows = env.query("select * from marts.sync_metrics")
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
    assert len(env.server.request_log) - requests_before <= 10  # each list once, the window, a slice of history
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


def test_dbt_unit_tests_pass(env: Env) -> None:
    """The pipeline's build runs models and data tests; the SQL unit tests (matching precedence, dedup,
    timestamp parsing, normalisation, contact merging) run here, against the same warehouse."""
    from transform import warehouse as warehouses
    from transform.dbt import run_dbt

    env.sync()
    outcome = run_dbt(["test", "--select", "test_type:unit"], warehouses.current())

    assert outcome.success, outcome.failures
    declared = sum(len(yaml.safe_load(path.read_text()).get("unit_tests", [])) for path in MODEL_YAML)
    assert set(outcome.counts) == {"pass"} and outcome.counts["pass"] == declared


def test_a_run_with_a_short_horizon_keeps_every_run_consistent(env: Env) -> None:
    """ACUITY_HORIZON_DAYS=30 for one run: that run is judged on the 30 days it read (persisted ≤ attempted), and the
    next run with the defaults builds green again; sync_runs keeps one row per run, sync_metrics the latest."""
    assert env.sync().failures == []
    env.monkeypatch.setenv("ACUITY_HORIZON_DAYS", "30")
    assert env.sync().failures == []
    short = latest_metrics(env)
    assert (short["window_last"] - AS_OF).days == 30
    assert 0 < short["appointments_persisted"] <= short["appointments_attempted"]
    assert short["appointments_skipped_write_failures"] == 0
    assert short["future_appointments"] < env.account.ground_truth()["future_active"]
    env.monkeypatch.delenv("ACUITY_HORIZON_DAYS")

    assert env.sync().failures == []

    env.assert_marts_equal_ground_truth()
    runs = env.query(
        """select run_id, is_latest, appointments_skipped_write_failures, appointments_attempted,
                  appointments_persisted from marts.sync_runs order by as_of, window_last, run_id"""
    )
    assert len(runs) == 3 and [r[1] for r in runs].count(True) == 1
    assert all(r[2] == 0 and r[3] >= r[4] for r in runs)
    latest = env.query("select run_id from raw_acuity.sync_runs order by finished_at desc limit 1")[0][0]
    assert env.query("select run_id from marts.sync_metrics") == [(latest,)]


@pytest.mark.slow
def test_a_wrong_historical_run_row_never_fails_a_later_build(env: Env) -> None:
    """Old run rows are history: one recorded wrong (fetched 0, as a run that loaded without extracting once wrote)
    or twice never fails a later build, which judges only each tenant's latest run."""
    assert env.sync().failures == []
    with duckdb.connect(str(env.warehouse)) as connection:
        connection.execute(
            """insert into raw_acuity.sync_runs (run_id, tenant_id, status, as_of, started_at, finished_at,
                   window_first, window_last, fetched_appointments, _dlt_load_id, _dlt_id)
               select 'old-wrong-run', tenant_id, 'success', as_of - interval 10 day, started_at - interval 10 day,
                   finished_at - interval 10 day, window_first, window_last, 0, _dlt_load_id, 'x1'
               from raw_acuity.sync_runs"""
        )
        connection.execute(
            """insert into raw_acuity.sync_runs (run_id, tenant_id, status, as_of, started_at, finished_at,
                   window_first, window_last, fetched_appointments, _dlt_load_id, _dlt_id)
               select run_id, tenant_id, status, as_of, started_at - interval 1 day, finished_at - interval 1 day,
                   window_first, window_last, 0, _dlt_load_id, 'x2'
               from raw_acuity.sync_runs where run_id <> 'old-wrong-run'"""
        )
        connection.execute("update marts.sync_runs set fetched = 0, appointments_attempted = -5")
    # the earlier row now is an old, wrongly measured run
    assert env.sync(as_of="2026-11-25").failures == []
    assert env.sync(as_of="2026-11-25").failures == []

    assert env.scalar("select count(*) from marts.sync_runs where not is_latest and fetched = 0") == 1
    assert env.scalar("select count(*) from marts.sync_metrics where fetched > 0") == 1


def test_order_times_reach_the_revenue_mart(synced_env: Env) -> None:
    """Every order's local time is parsed (Acuity sends "YYYY-MM-DD HH:MM"), so first/last order dates are filled."""
    assert synced_env.scalar("select count(*) from staging.stg_acuity__orders where ordered_at_local is null") == 0
    filled = synced_env.query(
        """select count(*), count(first_order_at), count(last_order_at) from marts.contact_revenue
           where revenue_orders > 0"""
    )[0]
    assert filled[0] > 0 and filled == (filled[0], filled[0], filled[0])


def project_copy(project: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the dbt project that every dbt run of this test uses, for a test to break on purpose."""
    import transform.dbt

    for part in ("dbt_project.yml", "profiles.yml", "models", "macros", "seeds", "analyses", "tests/dbt"):
        source = PROJECT_DIR / part
        copy = shutil.copytree if source.is_dir() else shutil.copyfile
        (project / part).parent.mkdir(parents=True, exist_ok=True)
        copy(source, project / part)
    monkeypatch.setattr(transform.dbt, "PROJECT_DIR", project)
    return project


def test_a_build_whose_invariant_fails_publishes_nothing_and_says_so(
    env: Env, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The publish gate, proved by a real build: the project (a copy) gains an invariant that no warehouse with
    future appointments passes. The run syncs, builds every model, fails that test, and leaves the analysts' copy
    byte for byte as the last good run left it, saying so in one line."""
    from transform.run import report_run

    project = project_copy(tmp_path / "project", env.monkeypatch)
    assert env.sync().failures == []
    published = analyst_path(env.warehouse).read_bytes()
    (project / "tests" / "dbt" / "assert_deliberately_broken.sql").write_text(
        "-- fails whenever there is a future appointment\n"
        "select tenant_id, appointment_id from {{ ref('future_appointments') }}\n"
    )

    report = env.sync()

    assert [s.status for s in report.syncs] == ["success"] and report.dbt is not None
    assert not report.dbt.success and report.dbt.counts.get("fail") == 1 and "error" not in report.dbt.counts
    assert [line.split(":")[0] for line in report.failures] == ["dbt build"], report.failures
    assert "assert_deliberately_broken" in report.failures[0]
    named = report.failures[0].split("— tenant default: appointment_id ")[1].removesuffix(" …").split(", ")
    future = {str(r[0]) for r in env.query("select appointment_id from marts.future_appointments")}
    assert len(named) == 5 and set(named) <= future, "the line names the tenant and the records that broke it"
    assert "\n" not in report.failures[0] and "@" not in report.failures[0], "ids only: no personal data"
    assert report.published is None
    assert analyst_path(env.warehouse).read_bytes() == published
    assert report_run(report) == 1
    printed = capsys.readouterr().out.splitlines()
    assert printed.count("Nothing published: the analysts' copy still holds the last good run.") == 1, printed


def test_a_project_that_does_not_parse_fails_in_one_line_without_a_traceback(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    """dbt's child parses the project while the syncs run, with nothing on the console: the parent may never send a
    command (a failed sync, a full disk). When it does, a parse failure is one line naming the cause."""
    import transform.dbt
    from transform import warehouse as warehouses

    project = project_copy(workdir / "project", monkeypatch)
    (project / "models" / "marts" / "broken.sql").write_text("select 1 as x {% if true %}\n")  # no endif

    outcome = transform.dbt.run_dbt(["build"], warehouses.current())

    printed = capfd.readouterr()
    assert not outcome.success and len(outcome.failures) == 1, outcome.failures
    (failure,) = outcome.failures
    assert failure.startswith("parsing the project failed") and "broken.sql" in failure and "\n" not in failure
    assert "Traceback" not in printed.out + printed.err
