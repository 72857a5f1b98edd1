"""Where a person's email, phone or name still is: every row of a warehouse, every byte of every file.

Two searches, because each sees what the other cannot. The row search reads every text column of every table (and
each quarantined payload as a record) through SQL, so it finds a value however DuckDB compressed it on disk. The
byte search reads every file under the given folders, lower-cased, for each spelling the value may have been written
in (as typed, JSON-escaped, HTML-escaped): a log, a load package, the report, and a DuckDB file's pages, whose freed
blocks SQL never reaches. Findings name the place, never the value.
"""

from __future__ import annotations

import html
import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from extract.privacy import identifiers

Query = Callable[..., list[tuple[Any, ...]]]  # (sql with %s parameters, *parameters) -> rows
_TEXT_TYPES = ("VARCHAR", "TEXT", "JSON", "JSONB", "CHARACTER VARYING")
_CHUNK = 8 * 2**20


@dataclass(frozen=True)
class Needles:
    """A person's identifiers, in the form the models compare them, and the other spellings seen in their records."""

    emails: frozenset[str] = frozenset()
    phones: frozenset[str] = frozenset()
    names: frozenset[str] = frozenset()
    spellings: frozenset[str] = frozenset()  # e.g. a phone as written: "+1 (310) 922-7939"

    def texts(self) -> set[str]:
        return {text.lower() for text in (*self.emails, *self.phones, *self.names, *self.spellings) if text}

    def patterns(self) -> set[bytes]:
        """What a file holding one of them would contain, lower-cased as the file is read."""
        found = set()
        for text in self.texts():
            for spelling in (text, json.dumps(text)[1:-1], html.escape(text)):
                found.add(spelling.lower().encode())
        return found

    def names_record(self, record: dict[str, Any]) -> bool:
        """Whether a record (Acuity's keys) carries one of them."""
        keys = identifiers(record)
        return keys.get("email") in self.emails or keys.get("phone") in self.phones or keys.get("name") in self.names


def files(folders: Iterable[Path], needles: Needles) -> list[str]:
    """Every file under ``folders`` that holds one of the needles, as bytes."""
    patterns = needles.patterns()
    if not patterns:
        return []
    overlap = max(map(len, patterns)) - 1
    found = []
    for folder in dict.fromkeys(folders):
        for root, _, names in os.walk(folder):
            for name in names:
                path = Path(root) / name
                if not path.is_symlink() and path.is_file() and _holds(path, patterns, overlap):
                    found.append(str(path))
    return sorted(found)


def _holds(path: Path, patterns: set[bytes], overlap: int) -> bool:
    tail = b""
    with path.open("rb") as file:
        while chunk := file.read(_CHUNK):
            window = tail + chunk.lower()
            if any(pattern in window for pattern in patterns):
                return True
            tail = window[-overlap:] if overlap else b""
    return False


def rows(query: Query, needles: Needles, where: str) -> list[str]:
    """Every ``schema.table.column`` of the database ``query`` reads whose rows hold one of the needles (``where``
    names the database in the findings)."""
    texts = sorted(needles.texts())
    if not texts:
        return []
    columns: dict[tuple[str, str], list[str]] = {}
    for schema, table, column, data_type in query(
        "select table_schema, table_name, column_name, upper(data_type) from information_schema.columns"
        " where table_schema not in ('information_schema', 'pg_catalog') order by 1, 2, ordinal_position"
    ):
        if str(data_type).split("(")[0] in _TEXT_TYPES:
            columns.setdefault((schema, table), []).append(column)
    found = []
    for (schema, table), names in columns.items():
        relation = f'"{schema}"."{table}"'
        checks, parameters = [], []
        for column in names:
            checks.append(" or ".join(f'strpos(lower(cast("{column}" as varchar)), %s) > 0' for _ in texts))
            parameters += texts
        if {"first_name", "last_name"} <= set(names) and needles.names:
            checks.append(" or ".join(f"{_FULL_NAME} = %s" for _ in needles.names))
            parameters += sorted(needles.names)
            names = [*names, "first_name + last_name"]
        sums = ", ".join(f"sum(case when {check} then 1 else 0 end)" for check in checks)
        counts = query(f"select {sums} from {relation}", *parameters)[0]
        found += [f"{where}: {schema}.{table}.{column}" for column, count in zip(names, counts, strict=True) if count]
        if "payload" in names and _payload_names(query, relation, needles):
            found.append(f"{where}: {schema}.{table}.payload (a record with their name)")
    return sorted(set(found))


# a name as the models compare it, from the two columns it is stored in
_FULL_NAME = "regexp_replace(lower(trim(coalesce(first_name, '') || ' ' || coalesce(last_name, ''))), '\\s+', ' ', 'g')"


def _payload_names(query: Query, relation: str, needles: Needles) -> bool:
    """Whether a quarantined record (a JSON object) carries one of the needles in its own fields."""
    for (payload,) in query(f"select payload from {relation} where payload is not null"):
        try:
            record = json.loads(payload)
        except (TypeError, ValueError):
            continue
        if isinstance(record, dict) and needles.names_record(record):
            return True
    return False
