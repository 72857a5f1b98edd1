"""The operator's seed files (seeds/*.csv) as the ground-truth oracle reads them for one tenant.

Only which rows apply to the tenant is decided here: its own rows, and the ``*`` rows of ignored_identifiers.csv
(the only seed with a row for every tenant, models/_seeds.yml). Values stay as typed: sandbox.matching normalises and
applies them the way the models do, so a test can ask the oracle what a seed row must change.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

SHIPPED_REVENUE_STATUSES = frozenset({"paid", "delivered"})  # seeds/order_statuses.csv as shipped


@dataclass(frozen=True)
class Seeds:
    """One tenant's seed rows. ``phone_country_code`` None means no tenant_settings row (the default, 1)."""

    phone_country_code: str | None = None
    ignored: tuple[tuple[str, str], ...] = ()  # (identifier type, value)
    kept_apart: tuple[tuple[str, str, str], ...] = ()  # (identifier type, value, client name)
    assignments: tuple[tuple[str, int, str], ...] = ()  # (record type, record id, contact's merge identifier)
    revenue_statuses: frozenset[str] = SHIPPED_REVENUE_STATUSES  # trimmed, lower-cased

    @classmethod
    def read(cls, folder: Path, tenant_id: str) -> Seeds:
        """The rows of ``folder``'s seed files that apply to ``tenant_id``."""

        def rows(name: str, every_tenant: bool = False) -> list[dict[str, str]]:
            with (folder / f"{name}.csv").open(newline="") as file:
                found = list(csv.DictReader(file))
            return [r for r in found if r["tenant_id"] == tenant_id or (every_tenant and r["tenant_id"] == "*")]

        settings = rows("tenant_settings")
        with (folder / "order_statuses.csv").open(newline="") as file:
            statuses = list(csv.DictReader(file))
        return cls(
            # dbt loads an empty cell as null: no code, the default
            phone_country_code=(settings[0]["default_phone_country_code"] or None) if settings else None,
            ignored=tuple((r["identifier_type"], r["identifier_value"]) for r in rows("ignored_identifiers", True)),
            kept_apart=tuple(
                (r["identifier_type"], r["identifier_value"], r["client_name"]) for r in rows("contacts_kept_apart")
            ),
            assignments=tuple(
                (r["record_type"], int(r["record_id"]), r["contact"]) for r in rows("contact_assignments")
            ),
            revenue_statuses=frozenset(
                r["status"].strip(" ").lower() for r in statuses if r["counts_as_revenue"].strip().lower() == "true"
            ),
        )
