"""Where a sync's settings come from, and the one check every setting passes before anything runs.

Settings are dlt configuration: ``sources.acuity.<key>`` read through ``dlt.config`` / ``dlt.secrets``, so dlt's own
environment names (``SOURCES__ACUITY__LOOKBACK_DAYS``), ``.dlt/secrets.toml`` (git-ignored) and the committed
``.dlt/config.toml`` (the defaults) all work as dlt documents. The documented ``ACUITY_*`` names are aliases that win
over those, mapped in one place: ``SETTINGS`` below, which ``--help`` prints. Command-line flags win over everything.

A bad value is refused with one line naming the setting and a valid example (``AcuityError``), never a traceback.
The API key lives only in the environment or ``.dlt/secrets.toml`` and in the HTTP session; ``Tenant`` keeps it out
of ``repr`` and no message here ever quotes it.
"""

from __future__ import annotations

import os
import re
import textwrap
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from extract.errors import AcuityError

PROJECT_DIR = Path(__file__).resolve().parents[1]
# dlt looks for `.dlt/` in the working directory unless DLT_PROJECT_DIR says otherwise (dlt docs, "run context"), and it
# reads that folder once, at its first configuration lookup. Every path into a sync imports this module first, so
# setting it here, before any lookup, makes the project's settings apply whatever the caller's working directory.
if (PROJECT_DIR / ".dlt").is_dir():
    os.environ.setdefault("DLT_PROJECT_DIR", str(PROJECT_DIR))

DEFAULT_BASE_URL = "https://acuityscheduling.com/api/v1"
SECTION = "sources.acuity"
MAX_WINDOW_DAYS = 7305  # 20 years: a lookback, horizon or as-of further out than this is a typo, not a plan
EARLIEST = date(2000, 1, 1)  # Acuity Scheduling holds nothing older (it opened in 2006)
DEFAULT_BACKFILL_DAYS = 730  # --since defaults to two years before as-of


@dataclass(frozen=True)
class Setting:
    """One setting: its documented ``ACUITY_*`` alias, its dlt key (if it is dlt configuration) and how to check it.

    ``default`` is what applies when nothing sets it; for dlt settings it equals ``.dlt/config.toml`` (a unit test
    holds them together). ``minimum``/``maximum`` bound integer settings.
    """

    env: str
    help: str
    example: str
    key: str | None = None
    default: Any = None
    default_text: str = ""
    flag: str | None = None
    secret: bool = False
    minimum: int | None = None
    maximum: int | None = None
    choices: tuple[str, ...] = ()

    @property
    def dlt_key(self) -> str | None:
        return f"{SECTION}.{self.key}" if self.key else None

    @property
    def names(self) -> str:
        """How a message names it: every way to set it, so the reader finds the one they used."""
        first = f"{self.flag}/{self.env}" if self.flag else self.env
        return f"{first} ({self.dlt_key})" if self.dlt_key else first

    @property
    def shown_default(self) -> str:
        if self.default_text:
            return self.default_text
        return "" if self.default is None else str(self.default)


def _days(env: str, key: str, default: int, minimum: int, help: str) -> Setting:
    return Setting(env, help, str(default), key, default, minimum=minimum, maximum=MAX_WINDOW_DAYS)


# The one table of settings: every ACUITY_* name the program reads, its dlt key, default, and bounds.
SETTINGS: tuple[Setting, ...] = (
    # --- what a sync reads (SyncSettings) ---
    Setting(
        "ACUITY_AS_OF", "the instant treated as now (ISO date or timestamp; UTC if no offset)", "2026-11-24",
        "as_of", default_text="now", flag="--as-of",
    ),
    Setting(
        "ACUITY_SINCE", "first date the first run backfills appointments from", "2024-11-24",
        "since", default_text=f"{DEFAULT_BACKFILL_DAYS} days before as-of", flag="--since",
    ),
    _days("ACUITY_LOOKBACK_DAYS", "lookback_days", 90, 0, "days before as-of each run re-reads"),
    _days("ACUITY_HORIZON_DAYS", "horizon_days", 400, 1, "days after as-of each run reads"),
    Setting(
        "ACUITY_PAGE_SIZE", "the first `max` sent to Acuity (full responses are split by date)", "1000",
        "page_size", 1000, minimum=1, maximum=1_000_000,
    ),
    Setting(
        "ACUITY_PAGE_CEILING", "the largest `max` ever sent (at least the page size)", "100000",
        "page_ceiling", 100_000, minimum=1, maximum=1_000_000,
    ),
    Setting(
        "ACUITY_REQUEST_DEADLINE", "seconds one whole request may take (not one socket read)", "300",
        "request_deadline_seconds", 300, minimum=1, maximum=86_400,
    ),
    Setting(
        "ACUITY_RUN_DEADLINE", "seconds one tenant's whole sync may take", "3600",
        "run_deadline_seconds", 3600, minimum=1, maximum=7 * 86_400,
    ),
    Setting(
        "ACUITY_RECONCILE_RUNS", "every older date is re-read at least once every this many runs", "30",
        "reconcile_runs", 30, minimum=1, maximum=3660,
    ),
    Setting(
        "ACUITY_RECONCILE_BUDGET", "requests per run spent re-reading older history", "4",
        "reconcile_budget", 4, minimum=1, maximum=100_000,
    ),
    Setting(
        "ACUITY_CONFIRM_BUDGET", "requests per run spent confirming that records missing from an answer were deleted",
        "100", "confirm_budget", 100, minimum=0, maximum=100_000,
    ),
    Setting(
        "ACUITY_RETIRE_SHARE", "a run that would retire more than this percent of what a read covered retires none",
        "50", "retire_share", 50, minimum=1, maximum=100,
    ),
    # --- personal data (docs/privacy.md) ---
    Setting(
        "ACUITY_HEALTH_DATA", "intake-form answers and notes: keep, omit, or auto (omit when /me says the account is"
        " HIPAA-enabled)", "omit", "health_data", "auto", choices=("auto", "keep", "omit"),
    ),
    Setting(
        "ACUITY_RETENTION_DAYS", "drop raw versions superseded, and quarantined payloads received, more than this many"
        " days ago; 0 keeps them all", "365", "retention_days", 0, minimum=0, maximum=MAX_WINDOW_DAYS,
    ),
    # --- which account (Tenant) ---
    Setting("ACUITY_USER_ID", "the account's numeric user id (Acuity > Integrations > API)", "1234567", "user_id"),
    Setting("ACUITY_API_KEY", "the account's API key; never printed", "<the key>", "api_key", secret=True),
    Setting(
        "ACUITY_TENANT_ID", "the tenant_id of that account in every table", "north", "tenant_id", "default",
        default_text="'default'",
    ),
    Setting("ACUITY_BASE_URL", "the API to read", DEFAULT_BASE_URL, "base_url", DEFAULT_BASE_URL),
    Setting(
        "ACUITY_TENANTS_FILE", "a TOML file listing several accounts (tenants.example.toml)", "tenants.toml",
        flag="--tenants",
    ),
    Setting("ACUITY_USER_ID_<ID>", "user id of tenant <id> when its [tenants.<id>] has none", "1234567"),
    Setting("ACUITY_API_KEY_<ID>", "API key of tenant <id> (or tenants.<id>.api_key in secrets.toml)", "<the key>"),
    # --- where things live and how the command line runs (read from the environment only) ---
    Setting("ACUITY_WAREHOUSE", "the pipeline's DuckDB file", "w/acuity.duckdb", default="warehouse/acuity.duckdb"),
    Setting("ACUITY_DLT_DIR", "dlt's working folders", ".dlt_pipelines", default=".dlt_pipelines"),
    Setting("ACUITY_DBT_TARGET_PATH", "dbt's artifacts (manifest, run results, docs)", "target", default="target"),
    Setting("ACUITY_SEEDS_DIR", "the folder of seeds (your corrections), relative to the project", "my_seeds",
            default="seeds"),
    Setting("ACUITY_TARGET", "warehouse kind: duckdb or postgres", "postgres", default="duckdb"),
    Setting("ACUITY_POSTGRES_URL", "the PostgreSQL server when ACUITY_TARGET=postgres", "postgresql://u:p@host:5432/db"),
    Setting("ACUITY_DUCKDB_MEMORY_LIMIT", "DuckDB's memory limit", "1GB", default="512MB"),
    Setting("ACUITY_DBT_VERBOSE", "1: dbt's progress, debug log and JSON artifacts", "1", default_text="off"),
    Setting("ACUITY_PROGRESS", "dlt's progress display on a terminal (log, tqdm, ...)", "tqdm", default="log"),
    Setting(
        "ACUITY_PSEUDONYMISED_COPY", "1: publish the analysts' copy with hashed emails and phones and initials for"
        " names (marts only)", "1", default_text="off",
    ),
    Setting(
        "ACUITY_FILE_GROUP", "the group that may read the warehouse, its state, the analysts' copy and the report"
        " (others never can)", "analysts", default_text="none: the owner only",
    ),
    Setting(
        "ACUITY_FORCE_AS_OF", "1: accept an as-of earlier than the last run's or over 7 days ahead of the clock", "1",
        default_text="off", flag="--force-as-of",
    ),
)  # fmt: skip
BY_KEY: Mapping[str, Setting] = {s.key: s for s in SETTINGS if s.key}
BY_ENV: Mapping[str, Setting] = {s.env: s for s in SETTINGS}
INT_KEYS: tuple[str, ...] = tuple(s.key for s in SETTINGS if s.key and s.minimum is not None)


def help_epilog(width: int = 100) -> str:
    """``--help``'s list of environment settings, generated from ``SETTINGS`` so it cannot drift from what is read."""
    column = max(len(s.env) for s in SETTINGS) + 4

    def describe(s: Setting) -> list[str]:
        extras = [f"flag {s.flag}"] if s.flag else []
        extras += [f"default {s.shown_default}"] if s.shown_default else []
        text = s.help + (f" ({'; '.join(extras)})" if extras else "")
        wrapped = textwrap.wrap(text, width - column) or [""]
        return [f"  {s.env:<{column - 2}}{wrapped[0]}", *(" " * column + more for more in wrapped[1:])]

    lines = [
        "settings (a flag wins over its ACUITY_* name, which wins over dlt's sources.acuity.<key>, read as dlt",
        "documents it: env SOURCES__ACUITY__<KEY>, .dlt/secrets.toml, then the defaults in .dlt/config.toml):",
    ]
    lines += [line for s in SETTINGS if s.key for line in describe(s)]
    lines.append("environment only:")
    lines += [line for s in SETTINGS if not s.key for line in describe(s)]
    lines += textwrap.wrap(
        "dlt's own settings (RUNTIME__REQUEST_MAX_ATTEMPTS, RUNTIME__REQUEST_TIMEOUT, ...) are read as dlt "
        "documents them.",
        width,
    )
    return "\n".join(lines)


def read_setting(name: str) -> Any:
    """The raw value of ``sources.acuity.<name>``: its ``ACUITY_*`` alias if set (not empty), else dlt's lookup
    (its env name, secrets.toml, config.toml), else the table's default. Unvalidated: the callers below check it."""
    setting = BY_KEY[name]
    alias = os.environ.get(setting.env)
    if alias is not None and alias.strip():
        return alias
    value = _dlt_value(setting)
    if value is None or (isinstance(value, str) and not value.strip()):
        return setting.default
    return value


def _dlt_value(setting: Setting) -> Any:
    # imported here: `--help` reads SETTINGS without paying for dlt's import before dbt's child starts
    import dlt
    from dlt.common.exceptions import DltException

    accessor = dlt.secrets if setting.secret else dlt.config
    try:
        return accessor.get(str(setting.dlt_key))
    except DltException as exc:  # an unreadable .dlt/*.toml: say which, in one line
        raise AcuityError(f"cannot read dlt's settings (looking up {setting.dlt_key}): {_one_line(str(exc))}") from None


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _shown(value: Any) -> str:
    """A bad value as a message quotes it: repr (so a newline stays on the line), cut short."""
    text = repr(value)
    return text if len(text) <= 42 else text[:40] + "…'"


def _refuse(setting: Setting, value: Any, why: str, example: str | None = None) -> AcuityError:
    shown = "" if setting.secret else f"={_shown(value)}"
    return AcuityError(f"{setting.names}{shown} {why}; e.g. {setting.env}={example or setting.example}")


def parse_int(setting: Setting, value: Any) -> int:
    """A whole number within the setting's bounds, from TOML (int) or the environment (text)."""
    bounds = f"{setting.minimum} .. {setting.maximum}"
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise _refuse(setting, value, f"is not a whole number in {bounds}")
    if isinstance(value, str):
        text = value.strip()
        if not re.fullmatch(r"[+-]?\d+", text):
            raise _refuse(setting, value, f"is not a whole number in {bounds}")
        if len(text.lstrip("+-")) > 12:
            raise _refuse(setting, value, f"is outside {bounds}")
        value = int(text)
    too_low = setting.minimum is not None and value < setting.minimum
    if too_low or (setting.maximum is not None and value > setting.maximum):
        raise _refuse(setting, value, f"is outside {bounds}")
    return value


def parse_choice(setting: Setting, value: Any) -> str:
    """One of the setting's words, case and outer spaces ignored."""
    text = value.strip().lower() if isinstance(value, str) else value
    if text not in setting.choices:
        raise _refuse(setting, value, f"is not one of {', '.join(setting.choices)}")
    return text


def parse_flag(setting: Setting) -> bool:
    """An on/off setting read from the environment only: 1/true/yes or 0/false/no (unset is off)."""
    text = os.environ.get(setting.env, "").strip().lower()
    if text not in ("", "0", "false", "no", "1", "true", "yes"):
        raise _refuse(setting, os.environ[setting.env], "is not 1 or 0")
    return text in ("1", "true", "yes")


def parse_as_of(value: str | None) -> datetime:
    """``2026-11-24`` (midnight UTC) or a full ISO timestamp; none means now. Always timezone-aware UTC.

    Refused: text that is not ISO, and an instant outside 2000-01-01 .. 20 years from today (its window would
    overflow a date long before Acuity could answer it).
    """
    setting = BY_KEY["as_of"]
    if value is None or not str(value).strip():
        return datetime.now(UTC).replace(microsecond=0)
    if isinstance(value, datetime | date):  # a TOML date or datetime
        value = value.isoformat()
    try:
        parsed = datetime.fromisoformat(str(value).strip())
    except ValueError:
        raise _refuse(setting, value, "is not an ISO date or timestamp") from None
    as_of = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    latest = datetime.now(UTC).date() + timedelta(days=MAX_WINDOW_DAYS)
    if not EARLIEST <= as_of.date() <= latest:
        raise _refuse(setting, value, f"is outside {EARLIEST} .. {latest} (20 years from today)")
    return as_of


def parse_date(value: Any, what: str) -> date:
    """An ISO date for the setting named ``what`` (a key of ``SETTINGS``, or a label for other dates)."""
    setting = BY_KEY.get(what) or Setting(what, "", "2024-11-24")
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise _refuse(setting, value, "is not an ISO date (YYYY-MM-DD)") from None


@dataclass(frozen=True)
class SyncSettings:
    """What to read: the run's as-of instant, the appointment window around it, and the limits of a run; and what to
    keep of it: health data or not (``health_data``), raw history for how long (``retention_days``, 0: all of it).

    Constructing one validates it (``AcuityError`` naming the setting), so no code path can run with a window that
    is negative, inconsistent or beyond what a date can hold.
    """

    as_of: datetime
    since: date
    lookback_days: int = BY_KEY["lookback_days"].default
    horizon_days: int = BY_KEY["horizon_days"].default
    page_size: int = BY_KEY["page_size"].default
    full_refresh: bool = False
    page_ceiling: int = BY_KEY["page_ceiling"].default
    request_deadline_seconds: int = BY_KEY["request_deadline_seconds"].default
    run_deadline_seconds: int = BY_KEY["run_deadline_seconds"].default
    reconcile_runs: int = BY_KEY["reconcile_runs"].default
    reconcile_budget: int = BY_KEY["reconcile_budget"].default
    confirm_budget: int = BY_KEY["confirm_budget"].default
    retire_share: int = BY_KEY["retire_share"].default
    retention_days: int = BY_KEY["retention_days"].default
    health_data: str = BY_KEY["health_data"].default

    def __post_init__(self) -> None:
        for name in INT_KEYS:
            parse_int(BY_KEY[name], getattr(self, name))
        parse_choice(BY_KEY["health_data"], self.health_data)
        if self.as_of.tzinfo is None:
            raise AcuityError(f"{BY_KEY['as_of'].names}: as-of must be timezone-aware (use parse_as_of)")
        parse_as_of(self.as_of.isoformat())  # the same bounds as a value read from the environment
        since = BY_KEY["since"]
        if self.since < EARLIEST:
            raise _refuse(since, self.since.isoformat(), f"is before {EARLIEST}, older than any Acuity account")
        if self.since > self.as_of.date():
            raise _refuse(
                since,
                self.since.isoformat(),
                f"is after as-of {self.as_of.date()} (the horizon is {self.horizon})",
                max(EARLIEST, self.as_of.date() - timedelta(days=DEFAULT_BACKFILL_DAYS)).isoformat(),
            )
        if self.page_size > self.page_ceiling:
            raise _refuse(
                BY_KEY["page_size"], self.page_size, f"is above the page ceiling {self.page_ceiling} "
                f"({BY_KEY['page_ceiling'].env})", str(min(self.page_ceiling, BY_KEY["page_size"].default)),
            )  # fmt: skip
        if self.request_deadline_seconds > self.run_deadline_seconds:
            raise _refuse(
                BY_KEY["request_deadline_seconds"], self.request_deadline_seconds,
                f"is longer than the run deadline {self.run_deadline_seconds} s ({BY_KEY['run_deadline_seconds'].env})",
                str(min(self.run_deadline_seconds, BY_KEY["request_deadline_seconds"].default)),
            )  # fmt: skip

    @property
    def live_first(self) -> date:
        return self.as_of.date() - timedelta(days=self.lookback_days)

    @property
    def horizon(self) -> date:
        return self.as_of.date() + timedelta(days=self.horizon_days)


def settings_from_env(as_of: str | None = None, since: str | None = None, full_refresh: bool = False) -> SyncSettings:
    """Flags win over ``ACUITY_*`` environment variables, which win over dlt's ``sources.acuity.*`` configuration
    (its environment names, secrets.toml, then the defaults in .dlt/config.toml). Every value is checked here."""
    as_of_ts = parse_as_of(as_of if as_of and as_of.strip() else read_setting("as_of"))
    since_value = since if since and since.strip() else read_setting("since")
    default_since = max(EARLIEST, as_of_ts.date() - timedelta(days=DEFAULT_BACKFILL_DAYS))
    since_date = parse_date(since_value, "since") if since_value else default_since
    ints = {name: parse_int(BY_KEY[name], read_setting(name)) for name in INT_KEYS}
    health = parse_choice(BY_KEY["health_data"], read_setting("health_data"))
    return SyncSettings(as_of=as_of_ts, since=since_date, full_refresh=full_refresh, health_data=health, **ints)


_TENANT_ID = re.compile(r"[a-z0-9_]{1,40}")
_USER_ID = re.compile(r"[0-9]{1,20}")  # Acuity > Integrations > API shows a number
_KEY_CHARS = re.compile(r"[\x21-\x7e]+")  # printable ASCII, no spaces: a pasted newline would only fail as a 401


@dataclass(frozen=True)
class Tenant:
    """One Acuity account synced into the warehouse; constructing one checks every field (never quoting the key)."""

    tenant_id: str
    user_id: str
    api_key: str = field(repr=False)
    base_url: str = DEFAULT_BASE_URL
    label: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.tenant_id, str) or not _TENANT_ID.fullmatch(self.tenant_id):
            raise _refuse(BY_KEY["tenant_id"], self.tenant_id, "must be 1-40 characters of a-z, 0-9 and _", "downtown")
        where = f"tenant {self.tenant_id}: "
        if not str(self.user_id).strip():
            raise AcuityError(f"{where}no user id; set {BY_KEY['user_id'].names}, e.g. ACUITY_USER_ID=1234567")
        if not _USER_ID.fullmatch(str(self.user_id).strip()):
            raise AcuityError(
                f"{where}{BY_KEY['user_id'].names}={_shown(self.user_id)} is not an Acuity user id (digits, "
                "Acuity > Integrations > API); e.g. ACUITY_USER_ID=1234567"
            )
        if not self.api_key:
            raise AcuityError(f"{where}no API key; set {BY_KEY['api_key'].names} (Acuity > Integrations > API)")
        if not isinstance(self.api_key, str) or not _KEY_CHARS.fullmatch(self.api_key):
            raise AcuityError(
                f"{where}{BY_KEY['api_key'].names} holds spaces, a line break or non-ASCII characters; "
                "paste the key alone"
            )
        check_base_url(self.base_url, where)


def check_base_url(url: Any, where: str = "") -> None:
    """An http(s) URL with a host, and no credentials, query or fragment to leak or mangle."""
    setting = BY_KEY["base_url"]
    parts = urlsplit(url) if isinstance(url, str) else None
    if (
        parts is None
        or parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.username
        or parts.password
        or parts.query
        or parts.fragment
    ):
        shown = _shown(url.split("@")[-1] if isinstance(url, str) else url)  # never echo user:password@
        raise AcuityError(
            f"{where}{setting.names}={shown} is not an http(s) URL with a host (and no user, query or fragment); "
            f"e.g. ACUITY_BASE_URL={DEFAULT_BASE_URL}"
        )


def tenant_from_env() -> Tenant | None:
    """The single account named by ``ACUITY_USER_ID``/``ACUITY_API_KEY`` (or ``sources.acuity.*``), if any."""
    user_id, api_key = read_setting("user_id"), read_setting("api_key")
    if not user_id and not api_key:
        return None
    if not user_id or not api_key:
        missing, given = ("user_id", "api_key") if not user_id else ("api_key", "user_id")
        raise AcuityError(
            f"{BY_KEY[given].env} is set but {BY_KEY[missing].names} is not: set both, or neither to sync the "
            f"embedded sandbox; e.g. {BY_KEY[missing].env}={BY_KEY[missing].example}"
        )
    return Tenant(
        tenant_id=str(read_setting("tenant_id")).strip(),
        user_id=str(user_id).strip(),
        api_key=str(api_key),
        base_url=str(read_setting("base_url")).strip(),
    )


_TENANT_FIELDS = ("user_id", "base_url", "label")


def tenants_from_file(path: Path) -> list[Tenant]:
    """Accounts listed in a TOML file (``tenants.example.toml``); their API keys come from the environment.

    A key is read from ``ACUITY_API_KEY_<TENANT>`` (tenant id upper-cased) or dlt secrets ``tenants.<id>.api_key``;
    a key written in the file itself is refused, so the file can be committed and shared. Anything else the file
    holds that is not a tenant's ``user_id``, ``base_url`` or ``label`` is refused, naming the file and the entry.
    """
    try:
        document = tomllib.loads(Path(path).read_text())
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        cause = _one_line(str(exc))
        raise AcuityError(f"cannot read the tenants file {path} (--tenants/ACUITY_TENANTS_FILE): {cause}") from None
    example = 'e.g. [tenants.downtown] with user_id = "1234567" (see tenants.example.toml)'
    unknown = sorted(set(document) - {"tenants"})
    if unknown:
        raise AcuityError(
            f"{path}: unknown top-level entry {unknown[0]!r}; accounts go under [tenants.<id>], {example}"
        )
    entries = document.get("tenants")
    if not isinstance(entries, dict) or not entries:
        raise AcuityError(f"{path} lists no [tenants.<id>] tables; {example}")
    tenants = []
    for tenant_id, entry in entries.items():
        if not _TENANT_ID.fullmatch(tenant_id):
            raise AcuityError(
                f"{path}: tenant id {_shown(tenant_id)} must be 1-40 characters of a-z, 0-9 and _; "
                "e.g. [tenants.downtown]"
            )
        if not isinstance(entry, dict):
            raise AcuityError(
                f"{path}: tenants.{tenant_id} = {_shown(entry)} is not a table; write [tenants.{tenant_id}] "
                'with user_id = "1234567" on the next line (see tenants.example.toml)'
            )
        tenants.append(_tenant_from_entry(path, tenant_id, entry))
    return tenants


def _tenant_from_entry(path: Path, tenant_id: str, entry: dict[str, Any]) -> Tenant:
    where = f"{path}: tenant {tenant_id}"
    key_env, user_env = f"ACUITY_API_KEY_{tenant_id.upper()}", f"ACUITY_USER_ID_{tenant_id.upper()}"
    if "api_key" in entry:
        raise AcuityError(
            f"{where} has an api_key; keys belong in {key_env} (or tenants.{tenant_id}.api_key in secrets)"
        )
    unknown = sorted(set(entry) - set(_TENANT_FIELDS))
    if unknown:
        raise AcuityError(f"{where}: unknown setting {unknown[0]!r}; a tenant has {', '.join(_TENANT_FIELDS)}")
    for name in ("base_url", "label"):
        if name in entry and not isinstance(entry[name], str):
            raise AcuityError(f'{where}: {name} = {_shown(entry[name])} must be a string; e.g. {name} = "..."')
    user_id = entry.get("user_id") or os.environ.get(user_env, "")
    if isinstance(user_id, bool) or not isinstance(user_id, int | str) or not str(user_id).strip():
        raise AcuityError(f'{where}: no user id; set user_id = "1234567" under [tenants.{tenant_id}] or {user_env}')
    if not _USER_ID.fullmatch(str(user_id).strip()):
        raise AcuityError(
            f'{where}: user_id = {_shown(user_id)} is not an Acuity user id (digits); e.g. user_id = "1234567" '
            f"(or {user_env}=1234567)"
        )
    api_key = os.environ.get(key_env) or _tenant_secret(tenant_id)
    if not api_key:
        raise AcuityError(f"tenant {tenant_id}: no API key; set {key_env} (or tenants.{tenant_id}.api_key in secrets)")
    base_url = entry.get("base_url", DEFAULT_BASE_URL)
    check_base_url(base_url, f"{where}: ")
    return Tenant(
        tenant_id=tenant_id,
        user_id=str(user_id).strip(),
        api_key=api_key,
        base_url=base_url,
        label=entry.get("label", tenant_id),
    )


def _tenant_secret(tenant_id: str) -> str | None:
    import dlt
    from dlt.common.exceptions import DltException

    try:
        value = dlt.secrets.get(f"tenants.{tenant_id}.api_key")
    except DltException as exc:
        raise AcuityError(f"cannot read dlt's secrets for tenant {tenant_id}: {_one_line(str(exc))}") from None
    return str(value) if value else None
