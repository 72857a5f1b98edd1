"""Settings: read through dlt with the ACUITY_* aliases on top, and every bad value refused in one line that names it.

No network and no sync: the dlt lookups are real (environment, the project's .dlt/config.toml, in-memory secrets via
``dlt.secrets.values``); the few checks that need a fresh process (which `.dlt/` dlt finds, the command line's
output) run one.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dlt
import pytest

from extract.config import (
    BY_KEY,
    DEFAULT_BASE_URL,
    PROJECT_DIR,
    SETTINGS,
    SyncSettings,
    Tenant,
    help_epilog,
    parse_as_of,
    settings_from_env,
    tenant_from_env,
    tenants_from_file,
)
from extract.errors import AcuityError
from transform.cli import build_parser

pytestmark = pytest.mark.unit

AS_OF = "2026-11-24"
SECRET = "s3cr3t-key-never-in-a-message"
INT_SETTINGS = [s for s in SETTINGS if s.minimum is not None]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """No ACUITY_* or SOURCES__ACUITY__* from the caller's shell, nor an account from a local secrets.toml."""
    for name in list(os.environ):
        if name.startswith(("ACUITY_", "SOURCES__ACUITY__", "TENANTS__")):
            monkeypatch.delenv(name)
    # a developer's own .dlt/secrets.toml must not change what these tests see: blank its account, in memory only
    with dlt.secrets.values({"sources.acuity.user_id": "", "sources.acuity.api_key": ""}):
        yield monkeypatch


def refusal(call, *names: str) -> str:
    """The AcuityError ``call`` raises: one line, naming each of ``names``."""
    with pytest.raises(AcuityError) as caught:
        call()
    message = str(caught.value)
    assert "\n" not in message and "\r" not in message, message
    for name in names:
        assert name in message, message
    return message


# --- defaults and where they live ---------------------------------------------------------------------------------


def test_defaults_come_from_the_committed_config_toml_and_equal_the_table() -> None:
    committed = tomllib.loads((PROJECT_DIR / ".dlt" / "config.toml").read_text())["sources"]["acuity"]
    for key, value in committed.items():
        assert BY_KEY[key].default == value, key
    assert {s.key for s in INT_SETTINGS} <= set(committed)  # every integer setting has its default committed
    assert committed["base_url"] == DEFAULT_BASE_URL
    for key in committed:  # and dlt reads them from there
        assert dlt.config.get(f"sources.acuity.{key}") == committed[key]


def test_dlt_runtime_settings_are_in_config_toml() -> None:
    committed = tomllib.loads((PROJECT_DIR / ".dlt" / "config.toml").read_text())
    assert committed["extract"]["data_writer"]["disable_compression"] is True
    assert committed["normalize"]["data_writer"]["disable_compression"] is True
    assert committed["runtime"]["dlthub_telemetry"] is False


def test_example_secrets_is_not_read_and_configures_nothing() -> None:
    example = tomllib.loads((PROJECT_DIR / ".dlt" / "example.secrets.toml").read_text())
    assert example["sources"]["acuity"] == {"user_id": "", "api_key": ""}
    assert ".dlt/secrets.toml" in (PROJECT_DIR / ".gitignore").read_text().splitlines()


def test_settings_default_to_the_table() -> None:
    settings = settings_from_env(AS_OF)
    assert settings.as_of == datetime(2026, 11, 24, tzinfo=UTC)
    assert settings.since == date(2026, 11, 24) - timedelta(days=730)
    for setting in INT_SETTINGS:
        assert getattr(settings, setting.key) == setting.default
    assert (settings.page_ceiling, settings.request_deadline_seconds, settings.run_deadline_seconds) == (
        100_000,
        300,
        3600,
    )
    assert (settings.reconcile_runs, settings.reconcile_budget) == (30, 4)
    assert settings.live_first == date(2026, 8, 26) and settings.horizon == date(2027, 12, 29)


def test_default_since_never_precedes_2000() -> None:
    assert settings_from_env("2000-06-01").since == date(2000, 1, 1)


@pytest.mark.parametrize(
    ("env", "text", "value"),
    [
        ("ACUITY_LOOKBACK_DAYS", "0", 0),
        ("ACUITY_LOOKBACK_DAYS", " 7305 ", 7305),
        ("ACUITY_HORIZON_DAYS", "1", 1),
        ("ACUITY_PAGE_SIZE", "250", 250),
        ("ACUITY_PAGE_CEILING", "1000", 1000),
        ("ACUITY_REQUEST_DEADLINE", "30", 30),
        ("ACUITY_RUN_DEADLINE", "600", 600),
        ("ACUITY_RECONCILE_RUNS", "7", 7),
        ("ACUITY_RECONCILE_BUDGET", "12", 12),
    ],
)
def test_each_integer_setting_reads_its_alias(clean_env: pytest.MonkeyPatch, env: str, text: str, value: int) -> None:
    clean_env.setenv(env, text)
    setting = next(s for s in SETTINGS if s.env == env)
    assert getattr(settings_from_env(AS_OF), setting.key) == value


def test_an_empty_alias_counts_as_unset(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("ACUITY_LOOKBACK_DAYS", "")
    clean_env.setenv("ACUITY_AS_OF", "  ")
    assert settings_from_env().lookback_days == 90


# --- precedence: flag > ACUITY_* > SOURCES__ACUITY__* > secrets.toml > config.toml --------------------------------


def test_precedence_alias_over_dlt_env_over_toml(clean_env: pytest.MonkeyPatch) -> None:
    assert settings_from_env(AS_OF).lookback_days == 90  # .dlt/config.toml
    with dlt.secrets.values({"sources.acuity.lookback_days": 60}):  # .dlt/secrets.toml, in memory
        assert settings_from_env(AS_OF).lookback_days == 60
        clean_env.setenv("SOURCES__ACUITY__LOOKBACK_DAYS", "45")
        assert settings_from_env(AS_OF).lookback_days == 45
        clean_env.setenv("ACUITY_LOOKBACK_DAYS", "30")
        assert settings_from_env(AS_OF).lookback_days == 30


def test_dlt_config_values_override_the_committed_default() -> None:
    with dlt.config.values({"sources.acuity.page_ceiling": 5000, "sources.acuity.horizon_days": 30}):
        settings = settings_from_env(AS_OF)
    assert (settings.page_ceiling, settings.horizon_days) == (5000, 30)


def test_flags_win_over_every_other_source(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("ACUITY_AS_OF", "2026-01-01")
    clean_env.setenv("SOURCES__ACUITY__SINCE", "2025-01-01")
    assert settings_from_env().as_of.date() == date(2026, 1, 1)
    assert settings_from_env().since == date(2025, 1, 1)
    settings = settings_from_env(as_of="2026-02-01", since="2025-06-01")
    assert (settings.as_of.date(), settings.since) == (date(2026, 2, 1), date(2025, 6, 1))


# --- refusals: one line, naming the setting, with a valid example -------------------------------------------------


@pytest.mark.parametrize(
    ("env", "value"),
    [
        ("ACUITY_LOOKBACK_DAYS", "abc"),
        ("ACUITY_LOOKBACK_DAYS", "-1"),
        ("ACUITY_LOOKBACK_DAYS", "1.5"),
        ("ACUITY_LOOKBACK_DAYS", "9" * 5000),  # past Python's int() digit limit: still our message
        ("ACUITY_HORIZON_DAYS", "0"),
        ("ACUITY_HORIZON_DAYS", "99999999"),
        ("ACUITY_HORIZON_DAYS", "7306"),
        ("ACUITY_PAGE_SIZE", "0"),
        ("ACUITY_PAGE_SIZE", "-1"),
        ("ACUITY_PAGE_SIZE", "ten"),
        ("ACUITY_PAGE_CEILING", "0"),
        ("ACUITY_PAGE_CEILING", "2000000"),
        ("ACUITY_REQUEST_DEADLINE", "0"),
        ("ACUITY_REQUEST_DEADLINE", "5m"),
        ("ACUITY_RUN_DEADLINE", "0"),
        ("ACUITY_RECONCILE_RUNS", "0"),
        ("ACUITY_RECONCILE_BUDGET", "0"),
        ("ACUITY_RECONCILE_BUDGET", "lots"),
        ("ACUITY_AS_OF", "9999-12-31"),
        ("ACUITY_AS_OF", "0001-01-01"),
        ("ACUITY_AS_OF", "1999-12-31"),
        ("ACUITY_AS_OF", "yesterday"),
        ("ACUITY_SINCE", "2026-11-25"),  # after as-of
        ("ACUITY_SINCE", "2030-01-01"),  # after the horizon
        ("ACUITY_SINCE", "1999-12-31"),
        ("ACUITY_SINCE", "24/11/2024"),
    ],
)
def test_a_bad_value_is_refused_naming_its_setting(clean_env: pytest.MonkeyPatch, env: str, value: str) -> None:
    clean_env.setenv(env, value)
    if env != "ACUITY_AS_OF":
        clean_env.setenv("ACUITY_AS_OF", AS_OF)
    message = refusal(settings_from_env, env, f"e.g. {env}=")
    if env in ("ACUITY_AS_OF", "ACUITY_SINCE"):
        assert ("--as-of" if env == "ACUITY_AS_OF" else "--since") in message  # the flag, where there is one
    example = message.split(f"e.g. {env}=")[1]
    clean_env.setenv(env, example)
    settings_from_env()  # the example given is itself accepted


def test_a_bad_value_under_dlts_name_names_both(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("SOURCES__ACUITY__LOOKBACK_DAYS", "abc")
    refusal(lambda: settings_from_env(AS_OF), "ACUITY_LOOKBACK_DAYS", "sources.acuity.lookback_days", "'abc'")


def test_a_bad_value_in_toml_is_refused_too() -> None:
    with dlt.config.values({"sources.acuity.horizon_days": 1.5}):
        refusal(lambda: settings_from_env(AS_OF), "ACUITY_HORIZON_DAYS")
    with dlt.config.values({"sources.acuity.page_size": True}):
        refusal(lambda: settings_from_env(AS_OF), "ACUITY_PAGE_SIZE")


def test_page_size_above_the_ceiling_names_both(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("ACUITY_PAGE_SIZE", "5000")
    clean_env.setenv("ACUITY_PAGE_CEILING", "1000")
    refusal(lambda: settings_from_env(AS_OF), "ACUITY_PAGE_SIZE", "ACUITY_PAGE_CEILING", "e.g. ACUITY_PAGE_SIZE=1000")


def test_a_request_deadline_beyond_the_run_deadline_is_refused(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("ACUITY_REQUEST_DEADLINE", "600")
    clean_env.setenv("ACUITY_RUN_DEADLINE", "60")
    refusal(lambda: settings_from_env(AS_OF), "ACUITY_REQUEST_DEADLINE", "ACUITY_RUN_DEADLINE")


def test_bad_flags_are_named_as_flags() -> None:
    refusal(lambda: settings_from_env(as_of="tomorrow"), "--as-of", "'tomorrow'")
    refusal(lambda: settings_from_env(as_of=AS_OF, since="2027-01-01"), "--since", "after as-of 2026-11-24")


def test_constructing_settings_directly_validates_them_too() -> None:
    as_of = datetime(2026, 11, 24, tzinfo=UTC)
    refusal(lambda: SyncSettings(as_of, date(2025, 1, 1), lookback_days=-5), "ACUITY_LOOKBACK_DAYS")
    refusal(lambda: SyncSettings(as_of, date(2027, 1, 1)), "ACUITY_SINCE")
    refusal(lambda: SyncSettings(as_of, date(2025, 1, 1), page_size=0), "ACUITY_PAGE_SIZE")
    refusal(lambda: SyncSettings(datetime(2026, 11, 24), date(2025, 1, 1)), "ACUITY_AS_OF")  # naive
    assert SyncSettings(as_of, date(2025, 1, 1), horizon_days=30).horizon == date(2026, 12, 24)


# --- parse_as_of ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-24", datetime(2026, 11, 24, tzinfo=UTC)),
        ("2026-11-24T10:30:00", datetime(2026, 11, 24, 10, 30, tzinfo=UTC)),
        ("2026-11-24 10:30", datetime(2026, 11, 24, 10, 30, tzinfo=UTC)),
        ("2026-11-24T10:30:00+02:00", datetime(2026, 11, 24, 8, 30, tzinfo=UTC)),
        ("2026-11-24T23:30:00-05:00", datetime(2026, 11, 25, 4, 30, tzinfo=UTC)),
        ("2026-11-24T10:30:00Z", datetime(2026, 11, 24, 10, 30, tzinfo=UTC)),
    ],
)
def test_parse_as_of_forms(text: str, expected: datetime) -> None:
    parsed = parse_as_of(text)
    assert parsed == expected and parsed.utcoffset() == timedelta(0)


@pytest.mark.parametrize("empty", [None, "", "   "])
def test_parse_as_of_without_a_value_is_now(empty: str | None) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    parsed = parse_as_of(empty)
    assert parsed.tzinfo is not None and before <= parsed <= datetime.now(UTC)


@pytest.mark.parametrize("text", ["2026-13-01", "24.11.2026", "now", "9999-12-31T23:59:59"])
def test_parse_as_of_refuses(text: str) -> None:
    refusal(lambda: parse_as_of(text), "--as-of/ACUITY_AS_OF", repr(text))


# --- one account from the environment or dlt secrets ---------------------------------------------------------------


def test_no_credentials_means_the_sandbox() -> None:
    assert tenant_from_env() is None


def test_the_account_from_aliases(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("ACUITY_USER_ID", " 1234567 ")
    clean_env.setenv("ACUITY_API_KEY", SECRET)
    tenant = tenant_from_env()
    assert tenant == Tenant("default", "1234567", SECRET, DEFAULT_BASE_URL)


def test_the_account_from_dlt_names_and_secrets(clean_env: pytest.MonkeyPatch) -> None:
    with dlt.secrets.values({"sources.acuity.user_id": "111", "sources.acuity.api_key": "from-secrets-toml"}):
        tenant = tenant_from_env()
        assert tenant is not None and (tenant.user_id, tenant.api_key) == ("111", "from-secrets-toml")
        clean_env.setenv("SOURCES__ACUITY__API_KEY", "from-dlt-env")
        clean_env.setenv("SOURCES__ACUITY__TENANT_ID", "studio")
        tenant = tenant_from_env()
        assert tenant is not None and (tenant.api_key, tenant.tenant_id) == ("from-dlt-env", "studio")
        clean_env.setenv("ACUITY_API_KEY", "from-alias")
        clean_env.setenv("ACUITY_BASE_URL", "http://127.0.0.1:8080/api/v1")
        tenant = tenant_from_env()
        assert tenant is not None and (tenant.api_key, tenant.base_url) == (
            "from-alias",
            "http://127.0.0.1:8080/api/v1",
        )


def test_a_key_in_config_toml_is_not_a_secret(clean_env: pytest.MonkeyPatch) -> None:
    """dlt.secrets never reads config.toml (committed): a key written there configures nothing."""
    clean_env.setenv("ACUITY_USER_ID", "111")
    with dlt.config.values({"sources.acuity.api_key": SECRET}):
        assert SECRET not in refusal(tenant_from_env, "ACUITY_USER_ID is set", "ACUITY_API_KEY")


def test_half_the_credentials_names_the_missing_half(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("ACUITY_API_KEY", SECRET)
    message = refusal(tenant_from_env, "ACUITY_USER_ID", "e.g. ACUITY_USER_ID=1234567")
    assert SECRET not in message
    clean_env.delenv("ACUITY_API_KEY")
    clean_env.setenv("ACUITY_USER_ID", "1234567")
    refusal(tenant_from_env, "ACUITY_API_KEY (sources.acuity.api_key) is not")


@pytest.mark.parametrize(
    ("env", "value", "named"),
    [
        ("ACUITY_USER_ID", "me@example.com", "ACUITY_USER_ID"),
        ("ACUITY_TENANT_ID", "Down-Town", "ACUITY_TENANT_ID"),
        ("ACUITY_TENANT_ID", "x" * 41, "ACUITY_TENANT_ID"),
        ("ACUITY_BASE_URL", "acuityscheduling.com/api/v1", "ACUITY_BASE_URL"),
        ("ACUITY_BASE_URL", "ftp://acuityscheduling.com/api/v1", "ACUITY_BASE_URL"),
        ("ACUITY_BASE_URL", "https://acuityscheduling.com/api/v1?x=1", "ACUITY_BASE_URL"),
        ("ACUITY_API_KEY", SECRET + "\n", "ACUITY_API_KEY"),
        ("ACUITY_API_KEY", "two words " + SECRET, "ACUITY_API_KEY"),
    ],
)
def test_bad_account_settings_are_refused(clean_env: pytest.MonkeyPatch, env: str, value: str, named: str) -> None:
    clean_env.setenv("ACUITY_USER_ID", "1234567")
    clean_env.setenv("ACUITY_API_KEY", SECRET)
    clean_env.setenv(env, value)
    assert SECRET not in refusal(tenant_from_env, named)


def test_a_base_url_with_a_password_is_refused_without_quoting_it(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("ACUITY_USER_ID", "1234567")
    clean_env.setenv("ACUITY_API_KEY", SECRET)
    clean_env.setenv("ACUITY_BASE_URL", "https://me:hunter2@acuityscheduling.com/api/v1")
    assert "hunter2" not in refusal(tenant_from_env, "ACUITY_BASE_URL")


def test_a_tenant_never_shows_its_key() -> None:
    tenant = Tenant("north", "1", SECRET, "http://127.0.0.1:1/api/v1", "North")
    assert SECRET not in repr(tenant) and SECRET not in str(tenant) and SECRET not in f"{tenant}"
    assert SECRET not in repr([tenant]) and "north" in repr(tenant)


# --- the tenants file -----------------------------------------------------------------------------------------------


@pytest.fixture
def tenants_toml(tmp_path: Path, clean_env: pytest.MonkeyPatch):
    clean_env.setenv("ACUITY_API_KEY_NORTH", "key-n")

    def write(text: str) -> Path:
        path = tmp_path / "tenants.toml"
        path.write_text(text)
        return path

    return write


def test_the_example_tenants_file_reads(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("ACUITY_API_KEY_DOWNTOWN", "key-d")
    clean_env.setenv("ACUITY_API_KEY_UPTOWN", "key-u")
    tenants = tenants_from_file(PROJECT_DIR / "tenants.example.toml")
    assert [(t.tenant_id, t.user_id, t.label, t.base_url) for t in tenants] == [
        ("downtown", "1234567", "Downtown studio", DEFAULT_BASE_URL),
        ("uptown", "7654321", "Uptown studio", DEFAULT_BASE_URL),
    ]
    assert [t.api_key for t in tenants] == ["key-d", "key-u"]


def test_a_tenant_file_reads_ints_env_user_ids_and_secrets(tenants_toml, clean_env: pytest.MonkeyPatch) -> None:
    path = tenants_toml("[tenants.north]\nuser_id = 1\n[tenants.south]\nlabel = 'South'\n")
    clean_env.setenv("ACUITY_USER_ID_SOUTH", "2")
    with dlt.secrets.values({"tenants.south.api_key": "key-s"}):
        north, south = tenants_from_file(path)
    assert (north.user_id, north.api_key, north.label) == ("1", "key-n", "north")
    assert (south.user_id, south.api_key, south.label) == ("2", "key-s", "South")


def test_a_key_written_in_the_tenants_file_is_refused(tenants_toml) -> None:
    path = tenants_toml(f'[tenants.north]\nuser_id = "1"\napi_key = "{SECRET}"\n')
    message = refusal(lambda: tenants_from_file(path), str(path), "tenant north", "ACUITY_API_KEY_NORTH")
    assert SECRET not in message


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ('[tenants]\nnorth = "10001"\n', "tenants.north = '10001' is not a table"),
        ("[tenants.north]\nuser_id = '1'\n[tenants.\"Down-Town\"]\nuser_id = '2'\n", "'Down-Town'"),
        ("[tenants.north]\nuserid = '1'\n", "unknown setting 'userid'"),
        ("[tenants.north]\nlabel = 'North'\n", "no user id"),
        ("[tenants.north]\nuser_id = 'abc'\n", "ACUITY_USER_ID_NORTH"),
        ("[tenants.north]\nuser_id = true\n", "no user id"),
        ("[tenants.north]\nuser_id = '1'\nlabel = 3\n", "label = 3 must be a string"),
        ("[tenants.north]\nuser_id = '1'\nbase_url = 'localhost:8080'\n", "ACUITY_BASE_URL"),
        ("[tenants.south]\nuser_id = '1'\n", "ACUITY_API_KEY_SOUTH"),
        ("[tenant.north]\nuser_id = '1'\n", "unknown top-level entry 'tenant'"),
        ("", "lists no [tenants.<id>] tables"),
        ("tenants = 3\n", "lists no [tenants.<id>] tables"),
        ("[tenants.north\nuser_id = 1\n", "cannot read the tenants file"),
    ],
)
def test_a_bad_tenants_file_is_refused_in_one_line(tenants_toml, text: str, named: str) -> None:
    path = tenants_toml(text)
    message = refusal(lambda: tenants_from_file(path), named)
    assert "tenants" in message


def test_a_missing_tenants_file_names_the_setting(tmp_path: Path) -> None:
    refusal(lambda: tenants_from_file(tmp_path / "absent.toml"), "ACUITY_TENANTS_FILE", "absent.toml")


# --- --help lists every setting the program reads -------------------------------------------------------------------


def test_help_lists_every_setting_with_its_default() -> None:
    text = build_parser().format_help()
    assert help_epilog() in text
    for setting in SETTINGS:
        line = next(line for line in text.splitlines() if line.strip().startswith(setting.env + " "))
        assert line, setting.env
    for setting in INT_SETTINGS:
        assert f"default {setting.default})" in " ".join(text.split()), setting.env


def test_help_lists_every_acuity_variable_the_code_reads() -> None:
    """Scan the product's source for environment reads: a new ACUITY_* setting must be added to the table."""
    listed = {s.env.removesuffix("<ID>") for s in SETTINGS}
    read = set()
    for path in [*PROJECT_DIR.glob("extract/*.py"), *PROJECT_DIR.glob("transform/*.py")]:
        source = path.read_text()
        read |= set(re.findall(r"environ(?:\.get\(|\[)\s*f?[\"'](ACUITY_[A-Z0-9_]*)", source))
        read |= set(re.findall(r"f[\"'](ACUITY_[A-Z0-9_]*_)\{", source))  # per-tenant names
    assert read, "the scan found nothing: its pattern is stale"
    assert read <= listed, sorted(read - listed)


# --- the project's .dlt/ applies from any working directory ---------------------------------------------------------


def run_python(code: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("ACUITY_", "SOURCES__", "DLT_", "RUNTIME__"))}
    return subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, env={**clean, **env}, capture_output=True, text=True, timeout=120
    )


LOOKUPS = (
    "import dlt; print([dlt.config.get(k) for k in ('extract.data_writer.disable_compression',"
    " 'normalize.data_writer.disable_compression', 'runtime.dlthub_telemetry', 'sources.acuity.page_ceiling')])"
)


def test_the_project_settings_apply_from_another_working_directory(tmp_path: Path) -> None:
    """The settings pipeline.py used to force with os.environ come from .dlt/config.toml, found from any cwd, and take
    effect: a real (local) extract and normalize write uncompressed files."""
    without = run_python(LOOKUPS, tmp_path)
    assert without.stdout.strip().endswith(", None]"), without.stderr  # dlt alone looks in the cwd
    code = f"""
import extract.config, dlt, pathlib
{LOOKUPS}
p = dlt.pipeline("probe", destination="duckdb", pipelines_dir={str(tmp_path / "p")!r})
p.extract([{{"a": 1}}, {{"a": 2}}], table_name="t")
p.normalize()
files = [f for f in pathlib.Path({str(tmp_path / "p")!r}).rglob("t.*") if f.is_file()]
print(len(files), sorted({{f.read_bytes()[:2] == b"\\x1f\\x8b" for f in files}}))
"""
    found = run_python(code, tmp_path)
    lookups, files = found.stdout.strip().splitlines()
    assert lookups == "[True, True, False, 100000]", found.stderr
    count, gzipped = files.split(maxsplit=1)
    assert int(count) >= 1 and gzipped == "[False]", found.stderr


def test_an_unreadable_secrets_toml_is_one_line(tmp_path: Path) -> None:
    (tmp_path / ".dlt").mkdir()
    (tmp_path / ".dlt" / "secrets.toml").write_text("[sources.acuity\nuser_id = 1\n")
    code = (
        "from extract.config import settings_from_env\nfrom extract.errors import AcuityError\n"
        "try:\n    settings_from_env('2026-11-24')\nexcept AcuityError as e:\n    print(e)"
    )
    result = run_python(code, tmp_path, DLT_PROJECT_DIR=str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("\n") == 1, result.stdout
    assert (
        "cannot read dlt's settings" in result.stdout and "secrets.toml" in result.stdout and "line 1" in result.stdout
    )


def test_the_command_line_prints_one_line_for_a_bad_setting(tmp_path: Path) -> None:
    """No traceback ever reaches the user for a bad setting: `python -m transform` from elsewhere."""
    env = {
        "ACUITY_WAREHOUSE": str(tmp_path / "w.duckdb"),
        "ACUITY_DLT_DIR": str(tmp_path / "dlt"),
        "ACUITY_DBT_TARGET_PATH": str(tmp_path / "target"),
        "ACUITY_LOOKBACK_DAYS": "abc",
    }
    result = subprocess.run(
        [sys.executable, "-m", "transform", "--as-of", AS_OF],
        cwd=tmp_path,
        env={**{k: v for k, v in os.environ.items() if not k.startswith("ACUITY_")}, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert result.stderr.startswith("error: ACUITY_LOOKBACK_DAYS") and result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert not (tmp_path / "w.duckdb").exists()  # refused before anything ran
