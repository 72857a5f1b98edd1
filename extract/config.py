"""Where a sync's settings come from: flags, environment, then dlt config/secrets; never the repository.

The API key lives only in the environment or ``.dlt/secrets.toml`` (git-ignored) and in the HTTP session; this module
keeps it out of ``repr`` so it cannot leak into a log line or a traceback.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dlt

from extract.client import DEFAULT_BASE_URL
from extract.errors import AcuityError

_TENANT_ID = re.compile(r"^[a-z0-9_]{1,40}$")


@dataclass(frozen=True)
class Tenant:
    """One Acuity account synced into the warehouse."""

    tenant_id: str
    user_id: str
    api_key: str = field(repr=False)
    base_url: str = DEFAULT_BASE_URL
    label: str = ""

    def __post_init__(self) -> None:
        if not _TENANT_ID.match(self.tenant_id):
            raise AcuityError(f"tenant id {self.tenant_id!r} must be 1-40 characters of a-z, 0-9 and _")
        if not str(self.user_id).strip() or not self.api_key:
            raise AcuityError(f"tenant {self.tenant_id}: both the user id and the API key are required")


@dataclass(frozen=True)
class SyncSettings:
    """What to read: the run's as-of instant and the appointment window around it."""

    as_of: datetime
    since: date
    lookback_days: int = 90
    horizon_days: int = 400
    page_size: int = 1000
    full_refresh: bool = False

    @property
    def live_first(self) -> date:
        return self.as_of.date() - timedelta(days=self.lookback_days)

    @property
    def horizon(self) -> date:
        return self.as_of.date() + timedelta(days=self.horizon_days)


def parse_as_of(value: str | None) -> datetime:
    """``2026-11-24`` (midnight UTC) or a full ISO timestamp; none means now. Always timezone-aware UTC."""
    if not value:
        return datetime.now(UTC).replace(microsecond=0)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise AcuityError(f"--as-of/ACUITY_AS_OF {value!r} is not an ISO date or timestamp") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def parse_date(value: str, what: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise AcuityError(f"{what} {value!r} is not an ISO date (YYYY-MM-DD)") from None


def settings_from_env(as_of: str | None = None, since: str | None = None, full_refresh: bool = False) -> SyncSettings:
    """Flags win over ``ACUITY_*`` environment variables, which win over defaults."""
    as_of_ts = parse_as_of(as_of or os.environ.get("ACUITY_AS_OF"))
    since_text = since or os.environ.get("ACUITY_SINCE")
    since_date = parse_date(since_text, "--since/ACUITY_SINCE") if since_text else as_of_ts.date() - timedelta(days=730)
    return SyncSettings(
        as_of=as_of_ts,
        since=since_date,
        lookback_days=int(os.environ.get("ACUITY_LOOKBACK_DAYS", 90)),
        horizon_days=int(os.environ.get("ACUITY_HORIZON_DAYS", 400)),
        page_size=int(os.environ.get("ACUITY_PAGE_SIZE", 1000)),
        full_refresh=full_refresh,
    )


def tenant_from_env() -> Tenant | None:
    """The single account named by ``ACUITY_USER_ID``/``ACUITY_API_KEY`` (or dlt secrets), if any."""
    user_id = os.environ.get("ACUITY_USER_ID") or _dlt_secret("sources.acuity.user_id")
    api_key = os.environ.get("ACUITY_API_KEY") or _dlt_secret("sources.acuity.api_key")
    if not user_id and not api_key:
        return None
    if not user_id or not api_key:
        raise AcuityError("set both ACUITY_USER_ID and ACUITY_API_KEY (or neither, to use the sandbox)")
    return Tenant(
        tenant_id=os.environ.get("ACUITY_TENANT_ID", "default"),
        user_id=user_id,
        api_key=api_key,
        base_url=os.environ.get("ACUITY_BASE_URL", DEFAULT_BASE_URL),
    )


def _dlt_secret(key: str) -> str | None:
    try:
        value = dlt.secrets.get(key)
    except Exception:  # no secrets.toml, or an unreadable one: env vars remain the documented path
        return None
    return str(value) if value else None


def tenants_from_file(path: Path) -> list[Tenant]:
    """Accounts listed in a TOML file (``tenants.example.toml``); their API keys come from the environment.

    A key is read from ``ACUITY_API_KEY_<TENANT>`` (tenant id upper-cased) or dlt secrets ``tenants.<id>.api_key``;
    a key written in the file itself is refused, so the file can be committed and shared.
    """
    try:
        document = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise AcuityError(f"cannot read the tenants file {path}: {exc}") from None
    entries = document.get("tenants")
    if not isinstance(entries, dict) or not entries:
        raise AcuityError(f"{path} lists no [tenants.<id>] tables")
    tenants = []
    for tenant_id, entry in entries.items():
        if "api_key" in entry:
            raise AcuityError(
                f"{path}: tenant {tenant_id} has an api_key; keys belong in ACUITY_API_KEY_{tenant_id.upper()}"
            )
        env_name = f"ACUITY_API_KEY_{tenant_id.upper()}"
        api_key = os.environ.get(env_name) or _dlt_secret(f"tenants.{tenant_id}.api_key")
        if not api_key:
            raise AcuityError(f"tenant {tenant_id}: no API key; set {env_name}")
        tenants.append(
            Tenant(
                tenant_id=tenant_id,
                user_id=str(entry.get("user_id") or os.environ.get(f"ACUITY_USER_ID_{tenant_id.upper()}", "")),
                api_key=api_key,
                base_url=entry.get("base_url", DEFAULT_BASE_URL),
                label=entry.get("label", tenant_id),
            )
        )
    return tenants
