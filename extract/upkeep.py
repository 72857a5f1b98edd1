"""What a sync removes from its tenant's raw tables once its load committed: health data it now leaves out, history
older than the retention.

A run that omits health data (``extract.privacy``) stores none from then on; this empties what earlier runs stored
(every version, and the quarantined payloads), so switching the setting on takes effect for the whole history at its
next run. Retention (``ACUITY_RETENTION_DAYS``) drops versions of clients, appointments and orders that a newer version
replaced more than that many days ago (a record's last version always stays, so the marts, which read current
versions, and an appointment's removal keep their history), and the payloads of records set aside that long ago
(their ``rejected_records`` row, what and why, stays). Run rows are never dropped.

Portable SQL through dlt's sql_client (DuckDB and PostgreSQL). Deleted rows leave their bytes in freed storage: the
runner rewrites a DuckDB file whenever anything was removed (``transform.rewrite``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import dlt
from dlt.destinations.exceptions import DatabaseUndefinedRelation

from extract.privacy import HEALTH_COLUMNS, PERSONAL_RESOURCES, has_health, without_health


@dataclass
class Removed:
    """What one sync removed: rows whose health data was emptied, superseded versions dropped, payloads dropped."""

    health: int = 0
    versions: int = 0
    payloads: int = 0

    def __bool__(self) -> bool:
        return bool(self.health or self.versions or self.payloads)

    def describe(self) -> str:
        parts = [
            f"health data emptied in {self.health} stored records" if self.health else "",
            f"{self.versions} versions superseded before the retention dropped" if self.versions else "",
            f"{self.payloads} quarantined payloads dropped" if self.payloads else "",
        ]
        return "; ".join(part for part in parts if part)


def upkeep(pipeline: dlt.Pipeline, tenant_id: str, omit_health: bool, retention_days: int, now: datetime) -> Removed:
    """Empty the stored health data (when omitted) and apply the retention (when set) for one tenant."""
    removed = Removed()
    with pipeline.sql_client() as sql:
        if omit_health:
            removed.health = _scrub_health(sql, pipeline, tenant_id)
        if retention_days:
            cutoff = now - timedelta(days=retention_days)
            removed.versions = _drop_superseded(sql, tenant_id, cutoff)
            removed.payloads = _changed(
                sql,
                "rejected_records",
                "update {table} set payload = null where {where}",
                "tenant_id = %s and payload is not null and _dlt_load_id < %s",
                tenant_id,
                f"{cutoff.timestamp():.6f}",  # dlt's load ids are unix timestamps of this width until 2286
            )
    return removed


def _changed(sql: Any, table: str, statement: str, where: str, *args: Any) -> int:
    """Count the rows ``where`` selects, then change them: PostgreSQL's DB-API tells no count of an update."""
    try:
        qualified = sql.make_qualified_table_name(table)
        count = sql.execute_sql(f"select count(*) from {qualified} where {where}", *args)[0][0]
        if count:
            sql.execute_sql(statement.format(table=qualified, where=where), *args)
    except DatabaseUndefinedRelation:  # the table appears with its first row
        return 0
    return int(count)


_PLACES = ", ".join(["%s"] * len(PERSONAL_RESOURCES))  # one parameter per resource


def _scrub_health(sql: Any, pipeline: dlt.Pipeline, tenant_id: str) -> int:
    """Empty every health column (and dlt's variant columns of one) in every version that holds a value there, and
    the health values of the tenant's payloads."""
    scrubbed = 0
    for table in PERSONAL_RESOURCES:
        known = pipeline.default_schema.tables.get(table, {}).get("columns", {})
        columns = [name for name in known if name.split("__v_")[0] in HEALTH_COLUMNS]
        if columns:
            assignments = ", ".join(f"{sql.escape_column_name(name)} = null" for name in columns)
            filled = " or ".join(
                f"coalesce(cast({sql.escape_column_name(name)} as varchar), '') not in ('', '[]')" for name in columns
            )
            statement = f"update {{table}} set {assignments} where {{where}}"
            scrubbed += _changed(sql, table, statement, f"tenant_id = %s and ({filled})", tenant_id)
    try:
        rows = sql.execute_sql(
            f"select _dlt_id, payload from {sql.make_qualified_table_name('rejected_records')}"
            f" where tenant_id = %s and payload is not null and resource in ({_PLACES})",
            tenant_id,
            *PERSONAL_RESOURCES,
        )
    except DatabaseUndefinedRelation:
        return scrubbed
    for row_id, payload in rows or []:
        try:
            record = json.loads(payload)
        except ValueError:
            continue
        if isinstance(record, dict) and has_health(record):
            sql.execute_sql(
                f"update {sql.make_qualified_table_name('rejected_records')} set payload = %s where _dlt_id = %s",
                json.dumps(without_health(record), sort_keys=True, default=str),
                row_id,
            )
            scrubbed += 1
    return scrubbed


def _drop_superseded(sql: Any, tenant_id: str, cutoff: datetime) -> int:
    """Versions retired before ``cutoff`` that a newer version of the same record replaced (clients, which have no
    id, by any retirement: a changed client is a new record to scd2, and only current ones reach the marts)."""
    dropped = 0
    for table in PERSONAL_RESOURCES:
        where = "tenant_id = %s and _dlt_valid_to is not null and _dlt_valid_to < %s"
        if table != "clients":
            qualified = sql.make_qualified_table_name(table)
            where += (
                f" and exists (select 1 from {qualified} as newer where newer.tenant_id = {qualified}.tenant_id"
                f" and newer.id = {qualified}.id and newer._dlt_valid_from > {qualified}._dlt_valid_from)"
            )
        dropped += _changed(sql, table, "delete from {table} where {where}", where, tenant_id, cutoff)
    return dropped
