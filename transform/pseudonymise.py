"""The analysts' copy without who (``ACUITY_PSEUDONYMISED_COPY=1``): the marts, with no one in them to recognise.

Written as a new DuckDB file from the private warehouse's ``marts`` schema only (no raw, staging, intermediate or
seed tables: those hold names, emails and phones as Acuity sent them), column by column:
- emails, phones, contact ids and merge identifiers become stable hashed keys (``e_…``, ``p_…``, ``c_…``) keyed with
  the warehouse's secret salt: the same person has the same key in every table and every publish, so analysts count,
  join and follow people over time, but a key cannot be turned back into an email, nor an email into its key (an
  unsalted hash of ``jane@example.com`` could be); a phone is keyed by its last ten digits, as the models compare it;
- first and last names become initials (``J.``);
- ``rejected_records.payload`` (whole records as Acuity sent them) is empty.
A column is recognised by its name (``email`` or ``phone`` in it, a first or last name), so a mart added later with
such a column is covered too; the test reads every string in the copy for every client's email, phone and name.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from extract.privacy import KEYPAD


def write(private: Path, copy: Path, salt: bytes) -> None:
    """Write the pseudonymised marts of the DuckDB warehouse ``private`` into the new file ``copy``."""
    with duckdb.connect(str(copy)) as connection:
        quoted = str(private).replace("'", "''")
        connection.execute(f"attach '{quoted}' as private (read_only)")
        relations = connection.execute(
            "select table_name, table_type from information_schema.tables"
            " where table_catalog = 'private' and table_schema = 'marts' order by 1"
        ).fetchall()
        connection.execute("create schema marts")
        for table, kind in relations:
            columns = connection.execute(
                "select column_name, data_type from information_schema.columns where table_catalog = 'private'"
                " and table_schema = 'marts' and table_name = ? order by ordinal_position",
                [table],
            ).fetchall()
            select = ", ".join(f'{_expression(name, kind, salt.hex())} as "{name}"' for name, kind in columns)
            # a view of the marts becomes a table of its rows: the schemas it read are not in the copy
            connection.execute(f'create table marts."{table}" as select {select} from private.marts."{table}"')
        connection.execute("detach private")
        connection.execute("checkpoint")


def _expression(column: str, data_type: str, salt: str) -> str:
    """What the copy holds for one column (``salt`` is hex, so inlining it is safe)."""
    value = f'"{column}"'
    name = column.lower()
    if data_type.upper() not in ("VARCHAR", "JSON"):
        return value
    if name == "payload":
        return f"cast(null as {data_type})"
    if name in ("contact_id", "client_record_id", "merge_identifier"):
        return _keyed("c_", value, salt)
    if name == "identifier_value":
        return (
            f"case identifier_type when 'email' then {_keyed('e_', _email(value), salt)}"
            f" when 'phone' then {_keyed('p_', _phone(value), salt)} else {_keyed('n_', value, salt)} end"
        )
    if "email" in name:
        return _keyed("e_", _email(value), salt)
    if "phone" in name:
        return _keyed("p_", _phone(value), salt)
    if re.fullmatch(r"(.*_)?(first|last)_name", name):
        return f"case when trim({value}) = '' then {value} else upper(left(trim({value}), 1)) || '.' end"
    return value


def _keyed(prefix: str, normalised: str, salt: str) -> str:
    """A stable key: the salted hash of the normalised value; none stays none (``||`` with null is null)."""
    return f"'{prefix}' || left(sha256('{salt}:' || {normalised}), 16)"


def _email(value: str) -> str:
    return f"nullif(lower(trim({value})), '')"


def _phone(value: str) -> str:
    """The last ten digits, as ``extract.privacy.phone_key`` reads a phone (letters as on a keypad, 00 dropped)."""
    digits = f"regexp_replace(translate(upper({value}), '{KEYPAD[0]}', '{KEYPAD[1]}'), '[^0-9]', '', 'g')"
    national = f"case when {digits} like '00%' then substr({digits}, 3) else {digits} end"
    return f"case when length({national}) >= 7 then right({national}, 10) end"
