"""The operator's day, as cron, systemd and a person reading the morning summary meet it: true exit codes from the
installed command, every run recorded where analysts look, no silent fallback to the demo, a guarded as-of, odd
warehouse paths, and a summary and report that open with what changed. Stops (signals) are in tests/test_signals.py."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from helpers import AS_OF, PROJECT, Env

from extract.config import settings_from_env
from sandbox import Fault
from transform import paths, report
from transform import warehouse as warehouses
from transform.errors import PipelineError
from transform.run import check_as_of

ENTRY_POINT = Path(sys.executable).parent / "acuity-elt"  # pyproject's [project.scripts], what cron should call


def entry_point(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ENTRY_POINT), *args], env=env, cwd=PROJECT, capture_output=True, text=True, timeout=300
    )  # fmt: skip


def shell_env(**settings: str) -> dict[str, str]:
    """An operator's environment with no ACUITY_* setting but ``settings`` (and no dlt-held credentials)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACUITY_")}
    return {**env, "SOURCES__ACUITY__USER_ID": "", "SOURCES__ACUITY__API_KEY": "", **settings}


# ---- a day of runs as cron sees them: exit codes, every run recorded, the morning view, the as-of guard -------------


def test_a_day_of_runs_exit_codes_the_failure_on_record_and_the_morning_view(env: Env, tmp_path: Path) -> None:
    """Three runs of the installed command, as cron runs it: a good one (0); one Acuity refuses (1), which says when
    the last good run was; a good one that records the failure where analysts look and opens its summary — and the
    report — with what changed since the first. Then an as-of going back, or into 2045, is refused unless forced."""
    as_of = ("--as-of", AS_OF.isoformat())
    first = entry_point(dict(os.environ), *as_of)
    assert first.returncode == 0, first.stdout + first.stderr
    changes = env.account.mutate_all(rng_seed=5)
    env.server.inject(Fault(status=401, times=1, path="/me"))

    failed = entry_point(dict(os.environ), *as_of)

    assert failed.returncode == 1, failed.stdout + failed.stderr
    errors = [line for line in failed.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "Traceback" not in failed.stderr, failed.stderr
    assert re.search(
        r"runs: last successful \S+ \S+ UTC; 1 failed since \(the last, failed at extract: ", failed.stdout
    )

    third = entry_point(dict(os.environ), *as_of)

    assert third.returncode == 0, third.stdout + third.stderr
    with duckdb.connect(str(paths.analyst_path(env.warehouse)), read_only=True) as connection:
        runs = connection.execute(
            "select status, stage, is_latest, fetched from marts.sync_runs where status <> 'success'"
        ).fetchall()
        freshness = connection.execute("select failed_since, last_failure_stage from marts.sync_freshness").fetchall()
        changed = dict(
            connection.execute("select record_id, change from marts.last_run_changes where record = 'appointment'")
        .fetchall())  # fmt: skip
        paid = connection.execute(
            "select record_id from marts.last_run_changes where record = 'order' and change = 'paid'"
        ).fetchall()
    assert runs == [("failed", "extract", False, None)] and freshness == [(0, "extract")]
    assert changed[changes["rescheduled"]] == "rescheduled" and changed[changes["canceled"]] == "canceled"
    assert changed[changes["no_show"]] == "no_show" and changed[changes["deleted"]] == "removed"
    assert {changed[booked] for booked in changes["booked"]} == {"booked"} and paid == [(changes["paid_order"],)]
    summary = third.stdout[third.stdout.index("Tenant default —") :].splitlines()
    assert summary[1] == (
        "  since the last run: 2 new bookings, 1 cancellation, 1 reschedule, 1 no-show, 1 payment, 1 deleted in Acuity"
    )
    assert f"— appointment {changes['canceled']}" in third.stdout, "a change is listed by its record's id"
    names = {f"{c.first_name} {c.last_name}".strip() for c in env.account.iter_clients()}
    assert not [name for name in names if name and name in third.stdout], "names are data, not log output"
    assert summary.index("  today and tomorrow, bookings per calendar:") < next(
        i for i, line in enumerate(summary) if line.startswith("  marts.future_appointments")
    )
    assert "— 99 matched to a contact, 1 with no matching contact" in third.stdout  # 99 + 1 = 100, in words
    historical = r"before as-of: history, kept in marts\.appointments +[\d,]+  appointments_skipped_historical"
    assert re.search(historical, third.stdout)
    page = tmp_path / "report.html"
    assert report.main(["--output", str(page)]) == 0
    html = page.read_text()
    assert html.index("since the last run: 2 new bookings") < html.index("Future bookings per week")
    assert "Runs that failed or were interrupted" in html and "HTTP 401" in html

    requests = len(env.server.request_log)
    for wrong in ((AS_OF - timedelta(days=1)).isoformat(), "2045-01-01"):
        refused = entry_point(dict(os.environ), "--as-of", wrong)
        assert refused.returncode == 1 and "--force-as-of" in refused.stderr, refused.stderr
        assert len(refused.stderr.splitlines()) == 1
    assert len(env.server.request_log) == requests, "nothing was fetched"


@pytest.mark.unit
def test_a_wrong_flag_exits_2_and_help_documents_the_as_of_override() -> None:
    wrong = entry_point(shell_env(), "--no-such-flag")
    assert wrong.returncode == 2 and "unrecognized arguments" in wrong.stderr
    help_text = entry_point(shell_env(), "--help").stdout
    assert "--force-as-of" in help_text and "ACUITY_FORCE_AS_OF" in help_text
    from transform.cli import build_parser

    assert build_parser().parse_args(["--force-as-of"]).force_as_of, "the override is a flag, not only a setting"


@pytest.mark.unit
def test_the_as_of_guard_lets_a_day_or_two_ahead_and_a_forced_run_through(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ACUITY_WAREHOUSE", str(tmp_path / "acuity.duckdb"))
    target = warehouses.current()
    soon = settings_from_env(as_of=(datetime.now(UTC) + timedelta(days=2)).date().isoformat())
    check_as_of(target, soon, ["default"], force=False)  # a day or two ahead is a time zone, not a typo
    check_as_of(target, settings_from_env(as_of="2045-01-01"), ["default"], force=True)
    with pytest.raises(PipelineError, match="ahead of the clock"):
        check_as_of(target, settings_from_env(as_of="2045-01-01"), ["default"], force=False)


@pytest.mark.unit
def test_the_readme_schedules_the_installed_command_not_make() -> None:
    readme = (PROJECT / "README.md").read_text()
    cron = next(line for line in readme.splitlines() if line.startswith("15 5 * * *"))
    assert ".venv/bin/acuity-elt" in cron and "make" not in cron
    assert "ExecStart=/srv/acuity-elt/.venv/bin/acuity-elt" in readme
    for code in ("`0`", "`1`", "`2`", "`130`", "`143`"):
        assert code in readme


# ---- no silent fallback ---------------------------------------------------------------------------------------------


@pytest.mark.unit
def test_no_credentials_on_a_real_warehouse_exits_1_naming_the_settings(tmp_path: Path) -> None:
    warehouse = tmp_path / "acuity.duckdb"
    duckdb.connect(str(warehouse)).close()  # a real account's warehouse
    env = shell_env(ACUITY_WAREHOUSE=str(warehouse))

    done = entry_point(env, "--as-of", AS_OF.isoformat())

    assert done.returncode == 1, done.stdout + done.stderr
    (line,) = done.stderr.splitlines()
    assert "ACUITY_USER_ID" in line and "ACUITY_API_KEY" in line and "--sandbox" in line
    assert not (tmp_path / "demo").exists(), "the demo was not synced"


def test_the_demo_runs_on_purpose_with_sandbox_and_before_any_real_warehouse(tmp_path: Path) -> None:
    warehouse = tmp_path / "acuity.duckdb"
    duckdb.connect(str(warehouse)).close()

    done = entry_point(shell_env(ACUITY_WAREHOUSE=str(warehouse)), "--as-of", AS_OF.isoformat(), "--sandbox")

    assert done.returncode == 0, done.stdout + done.stderr
    assert "embedded demo" in done.stdout and (tmp_path / "demo" / "analyst.duckdb").exists()


# ---- paths and files ------------------------------------------------------------------------------------------------


def test_a_warehouse_path_with_a_quote_a_space_unicode_and_a_symlink_syncs_builds_and_publishes(
    env: Env, tmp_path: Path
) -> None:
    """One sync for all four (each a sync and build, ~10 s): a quote failed every load (dlt's loader put the path in
    SQL unescaped), a symlink named otherwise every model (`Catalog "acuity" does not exist`)."""
    target = tmp_path / "elsewhere" / "data.db"
    target.parent.mkdir()
    warehouse = tmp_path / "it's a wärehouse" / "acuity.duckdb"
    warehouse.parent.mkdir()
    warehouse.symlink_to(target)
    env.monkeypatch.setenv("ACUITY_WAREHOUSE", str(warehouse))

    synced = env.sync()

    assert synced.failures == [] and synced.published == paths.analyst_path(warehouse)
    with duckdb.connect(str(paths.analyst_path(warehouse)), read_only=True) as connection:
        assert connection.execute("select count(*) from marts.future_appointments").fetchone() == (100,)
    assert target.stat().st_size > 0, "the data went to the file the link points at"


@pytest.mark.unit
def test_the_warehouse_cannot_be_named_like_the_analysts_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACUITY_WAREHOUSE", str(tmp_path / "analyst.duckdb"))
    with pytest.raises(PipelineError, match=r"named like the analysts' copy.*acuity\.duckdb"):
        warehouses.current()


@pytest.mark.unit
@pytest.mark.parametrize("what", ["directory", "not duckdb"])
def test_a_directory_or_another_file_is_refused_without_advice_to_delete(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, what: str
) -> None:
    path = tmp_path / "acuity.duckdb"
    if what == "directory":
        path.mkdir()
    else:
        path.write_text("id,name\n1,a spreadsheet\n" * 100)
    monkeypatch.setenv("ACUITY_WAREHOUSE", str(path))

    with pytest.raises(PipelineError) as refused:
        warehouses.current().check_file()

    message = str(refused.value)
    assert str(path) in message and "\n" not in message
    assert "delete" not in message.lower() and "remove" not in message.lower()
    assert ("directory" if what == "directory" else "not a DuckDB database") in message


@pytest.mark.unit
def test_a_lock_held_by_another_program_names_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "acuity.duckdb"
    holder = subprocess.Popen(
        [sys.executable, "-c", f"import duckdb, sys; c = duckdb.connect({str(path)!r}); print('open', flush=True);"
         " sys.stdin.readline()", "--my-notebook"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "open"
        monkeypatch.setenv("ACUITY_WAREHOUSE", str(path))
        with pytest.raises(PipelineError) as refused:
            warehouses.current().check_file()
    finally:
        holder.communicate("\n", timeout=30)
    message = str(refused.value)
    assert f"PID {holder.pid}" in message and "--my-notebook" in message
    assert "wait for it" in message and "close it" in message and "delete" not in message.lower()


@pytest.mark.unit
def test_secrets_readable_by_others_get_one_warning(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secrets = tmp_path / ".dlt" / "secrets.toml"
    secrets.parent.mkdir()
    secrets.write_text('[sources.acuity]\napi_key = "k"\n')
    monkeypatch.setattr(paths, "PROJECT_DIR", tmp_path)
    said: list[str] = []

    secrets.chmod(0o644)
    warehouses.warn_about_secrets(said.append)
    secrets.chmod(0o600)
    warehouses.warn_about_secrets(said.append)

    assert len(said) == 1 and "chmod 600" in said[0] and "group and others" in said[0]
    assert stat.S_IMODE(secrets.stat().st_mode) == 0o600


# ---- the morning view -----------------------------------------------------------------------------------------------


@pytest.mark.unit
def test_weekly_charts_use_whole_weeks_and_draw_empty_weeks_as_zero() -> None:
    weeks = [(date(2026, 11, 30), 3), (date(2026, 12, 14), 2)]  # the week of 12-07 has none
    bars = report.weekly_chart(weeks).data[0]
    assert [str(x) for x in bars.x] == ["2026-11-30", "2026-12-07", "2026-12-14"] and list(bars.y) == [3, 0, 2]

    figure = report.utilisation_chart([("A", date(2026, 11, 30), 5)], ["A", "B"], date(2026, 11, 23), 3)
    by_name = {trace.name: (list(trace.x), list(trace.y)) for trace in figure.data}
    assert by_name["A"] == ([date(2026, 11, 23), date(2026, 11, 30), date(2026, 12, 7)], [0.0, 5.0, 0.0])
    assert by_name["B"][1] == [0.0, 0.0, 0.0], "a calendar with no bookings is drawn at zero, not left out"
    assert all(week.weekday() == 0 for week in by_name["A"][0])


@pytest.mark.unit
def test_the_standalone_sandbox_follows_the_clock_unless_told() -> None:
    from sandbox.__main__ import build_parser

    assert build_parser().parse_args([]).as_of is None  # main() then takes today's date
    assert build_parser().parse_args(["--as-of", "2026-11-24"]).as_of == date(2026, 11, 24)
    assert "today" in build_parser().format_help()
