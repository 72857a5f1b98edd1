"""Every metric invariant can fail: a real dbt build of a deliberately broken model (in a copy of the project), on a
copy of a warehouse a real sync filled, fails the invariant that guards that model. The sync's own build, on the
unbroken project, passed them all. Each invariant compares two quantities computed apart (the extractor's counts in
the run row against a mart, one mart against another), so a model's bug cannot make both sides wrong alike."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import Env, sandbox_env

from sandbox import Fault
from transform.dbt import run_dbt
from transform.paths import PROJECT_DIR
from transform.warehouse import Warehouse

FUTURE = "2026-12-04T10:00:00-0500"
# (the invariant that must fail, the model broken, the text replaced, what replaces it): each a bug a model could have
BREAKS = [
    (
        "assert_future_appointments_are_what_the_run_loaded",
        "models/marts/future_appointments.sql",
        "where not appointments.is_removed",
        "where not appointments.is_removed and appointments.match_rule <> 'unmatched'",
    ),
    (
        "assert_future_appointments_not_canceled",
        "models/marts/future_appointments.sql",
        "and not appointments.is_canceled",
        "",
    ),
    (
        "sync_metrics_fetched_equals_attempted_plus_skips",
        "models/intermediate/int_acuity__run_buckets.sql",
        "where not is_removed",
        "where not is_removed and not is_canceled",
    ),
    (
        "sync_metrics_no_negative_write_failures",
        "models/marts/sync_runs.sql",
        "sum(case when future_appointments.match_rule <> 'unmatched' then 1 else 0 end)",
        "count(*)",
    ),
    (
        "assert_every_fetched_appointment_is_in_the_mart_or_quarantined",
        "models/marts/appointments.sql",
        "and products_by_code.code = upper(appointments.certificate_code)\n",
        "and products_by_code.code = upper(appointments.certificate_code)\n    where not appointments.is_no_show\n",
    ),
    (
        "assert_every_client_record_is_in_a_contact",
        "models/marts/contacts.sql",
        "count(*) as client_records",
        "count(email_normalised) as client_records",
    ),
    (
        "assert_contacts_with_revenue_counts_contacts",
        "models/marts/revenue_reconciliation.sql",
        "sum(case when order_revenue > 0 then 1 else 0 end)",
        "sum(case when order_revenue >= 0 then 1 else 0 end)",
    ),
    (
        "assert_revenue_reconciles",
        "models/marts/orders.sql",
        "is_revenue and not is_removed as counts_as_revenue",
        "not is_removed as counts_as_revenue",
    ),
    (
        "assert_revenue_reconciles",
        "models/marts/revenue_reconciliation.sql",
        "select * from {{ ref('int_acuity__latest_runs') }}",
        "select * from {{ ref('int_acuity__latest_runs') }} where tenant_id <> 'default'",
    ),
    (
        "assert_money_reconciles",
        "models/marts/contacts.sql",
        "sum(coalesce(amount_paid, 0)) as appointment_payments",
        "sum(case when status = 'canceled' then 0 else coalesce(amount_paid, 0) end) as appointment_payments",
    ),
    (
        "assert_every_synced_tenant_has_its_run_metrics",
        "models/marts/sync_metrics.sql",
        "where is_latest",
        "where is_latest and tenant_id <> 'default'",
    ),
]


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    """One real sync of the sandbox, two of whose appointments are quarantined, so the quarantine counts are not 0."""
    with (
        pytest.MonkeyPatch.context() as monkeypatch,
        sandbox_env(tmp_path_factory.mktemp("invariants"), monkeypatch) as env,
    ):
        monkeypatch.setenv("ACUITY_PAGE_SIZE", "5000")
        bad = [{"id": 990101, "datetime": "next tuesday"}, {"id": 990102, "datetime": FUTURE[:10]}]
        env.server.inject(Fault(200, 10**6, mangle=lambda rows: [*rows, *bad], path="/appointments", exact=True))
        assert env.sync().failures == []
        assert env.scalar("select appointments_rejected_time from raw_acuity.sync_runs") == 2
        yield env


@pytest.mark.parametrize(
    ("invariant", "model", "old", "new"), BREAKS, ids=[f"{i}-{Path(m).stem}" for i, m, _, _ in BREAKS]
)
def test_a_broken_model_fails_the_invariant_that_guards_it(
    synced: Env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, invariant: str, model: str, old: str, new: str
) -> None:
    import transform.dbt

    project = tmp_path / "project"
    for part in ("dbt_project.yml", "profiles.yml", "models", "macros", "seeds", "tests/dbt"):
        copy = shutil.copytree if (PROJECT_DIR / part).is_dir() else shutil.copyfile
        (project / part).parent.mkdir(parents=True, exist_ok=True)
        copy(PROJECT_DIR / part, project / part)
    source = (project / model).read_text()
    assert old in source, f"{model} no longer holds the text this break replaces"
    (project / model).write_text(source.replace(old, new, 1))
    monkeypatch.setattr(transform.dbt, "PROJECT_DIR", project)
    warehouse = tmp_path / "acuity.duckdb"
    shutil.copyfile(synced.warehouse, warehouse)

    build = ["build", "--select", f"{Path(model).stem}+", "--exclude-resource-type", "unit_test"]  # as a run builds
    outcome = run_dbt(build, Warehouse("duckdb", warehouse))

    failed = {line.split(":")[0] for line in outcome.failures}
    assert invariant in failed, outcome.failures
    assert "error" not in outcome.counts, outcome.failures  # it failed a test, it did not break the SQL
