"""The identity rules' one Python definition (sandbox/matching.py, the ground-truth oracle) against the SQL macros
the warehouse runs (macros/normalise.sql), value for value, and the oracle's merge and precedence rules.

The macros are rendered with plain Jinja and the DuckDB spelling of the few dispatched macros (what dbt-duckdb
resolves them to), then run in an in-memory DuckDB: no dbt start-up, so this stays in the fast tier. The end-to-end
comparison of whole matches is `assert_marts_equal_ground_truth` (tests/helpers.py) after a real sync.
"""

from __future__ import annotations

from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import duckdb
import jinja2
import pytest
import yaml

from sandbox import build_account
from sandbox.matching import ContactIndex, PersonIndex, normalise_email, normalise_name, normalise_phone
from sandbox.seeds import Seeds

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
EDGE_CASES = [
    None,
    "",
    "   ",
    " \t ",
    "\tAnn@Example.COM\n",
    " Mixed.Case@Mail.Example ",
    "(212) 555-0123",
    "212-555-0123",
    "+1 212 555 0123",
    "1-212-555-0123",
    "+44 20 7946 0958",
    "0044 20 7946 0958",
    "00 1 212 555 0123",
    "555-0123",
    "+",
    "ext. 12",
    # vanity numbers are read as on a keypad, so two of them never merge; words without a digit are no phone
    "1-800-FLOWERS",
    "1-800-GOT-JUNK",
    "+1 (800) FLOWERS",
    "none",
    "N/A",
    "unknown",
    "(212) 555-0123 x12",
    "٢١٢٥٥٥٠١٢٣",  # Arabic-Indic digits: not [0-9]
    "  O'Brien ",
    "MacLeod",
    "José",
]


@cache
def macros() -> Any:
    """macros/normalise.sql as a Jinja module, with dispatch resolving to the DuckDB (else default) spelling."""
    source = (ROOT / "macros" / "cross_db.sql").read_text() + (ROOT / "macros" / "normalise.sql").read_text()
    variables = yaml.safe_load((ROOT / "dbt_project.yml").read_text())["vars"]
    module: dict[str, Any] = {}

    class Adapter:
        def dispatch(self, name: str, package: str) -> Any:
            found = getattr(module["m"], f"duckdb__{name}", None)
            return found or getattr(module["m"], f"default__{name}")

    class Dbt:
        def length(self, expr: str) -> str:
            return f"length({expr})"

    env = jinja2.Environment()
    env.globals.update(adapter=Adapter(), dbt=Dbt(), var=variables.__getitem__, **{"return": lambda value: value})
    module["m"] = env.from_string(source).module
    return module["m"]


def sql_values(expression: str, rows: list[tuple[str | None, str | None]]) -> list[str | None]:
    firsts, seconds = [a for a, _ in rows], [b for _, b in rows]
    with duckdb.connect() as connection:
        table = "(select unnest($1::text[]) as a, unnest($2::text[]) as b, unnest(range($3)) as n) as t"
        query = f"select {expression} from {table} order by n"
        return [value for (value,) in connection.execute(query, [firsts, seconds, len(rows)]).fetchall()]


@cache
def seed_values() -> list[tuple[str, str, str, str]]:
    account = build_account("seed", 42, date(2026, 11, 24))
    people = [(c.first_name, c.last_name, c.email, c.phone) for c in account.iter_clients()]
    people += [(a.first_name, a.last_name, a.email, a.phone) for a in account.iter_appointments()]
    return people + [(o.first_name, o.last_name, o.email, o.phone) for o in account.iter_orders()]


def test_email_and_phone_normalisation_equal_the_sql_macros() -> None:
    values = EDGE_CASES + [v for person in seed_values() for v in person[2:]]
    rows = [(v, None) for v in values]
    assert [normalise_email(v) for v in values] == sql_values(str(macros().normalise_email("a")), rows)
    assert [normalise_phone(v) for v in values] == sql_values(str(macros().normalise_phone("a")), rows)


def test_phone_normalisation_with_a_tenants_country_code_equals_the_sql_macro() -> None:
    values = EDGE_CASES + [person[3] for person in seed_values()]
    rows = [(v, "44") for v in values]
    assert [normalise_phone(v, "44") for v in values] == sql_values(str(macros().normalise_phone("a", "b")), rows)


def test_name_normalisation_equals_the_sql_macro() -> None:
    pairs = [(a, b) for a in [*EDGE_CASES[:6], "Ann", " ann"] for b in [*EDGE_CASES[:4], "Lee", "LEE "]]
    pairs += [person[:2] for person in seed_values()]
    assert [normalise_name(a, b) for a, b in pairs] == sql_values(str(macros().normalise_name("a", "b")), pairs)


def test_clients_merge_by_email_then_an_unambiguous_phone() -> None:
    index = ContactIndex(
        [
            ("Ann", "Lee", "ann@x.example", "(212) 555-0100"),
            ("Ann", "Lee", " ANN@X.example ", ""),  # same email in another case: same contact
            ("Ann", "Lee", "", "+1 212 555 0100"),  # no email, phone of exactly one contact: joins it
            ("Bo", "Ray", "bo@x.example", "212-555-0199"),
            ("Cy", "Ray", "cy@x.example", "212.555.0199"),  # shares Bo's phone
            ("Di", "Ray", "", "2125550199"),  # no email, phone of two contacts: a contact of its own
        ]
    )
    assert index.members == [[0, 1, 2], [3], [4], [5]]


def test_records_match_by_email_then_unique_phone_then_unique_name() -> None:
    index = ContactIndex(
        [
            ("Ann", "Lee", "ann@x.example", "(212) 555-0100"),
            ("Bo", "Ray", "bo@x.example", "212-555-0199"),
            ("Cy", "Ray", "cy@x.example", "212.555.0199"),
            ("Bo", "Ray", "bo2@x.example", ""),
        ]
    )
    assert index.match("Zed", "Zed", " Ann@X.example", "") == (0, "email")
    assert index.match("Zed", "Zed", "", "+1 (212) 555-0100") == (0, "phone")
    assert index.match("Zed", "Zed", "", "212 555 0199") == (None, "unmatched")  # phone of two contacts
    assert index.match(" cy ", "RAY", "", "") == (2, "client_id")
    assert index.match("Bo", "Ray", "", "") == (None, "unmatched")  # name of two contacts
    assert index.match("", "", "", "") == (None, "unmatched")  # no name is not a name


def test_seed_rows_apply_as_the_models_apply_them() -> None:
    """An ignored email names nobody (its records fall back to their phones, labelled manual), a record kept apart is
    a contact of its own (its name and phone now name two contacts), an assignment wins over every rule."""
    seeds = Seeds(
        ignored=(("email", " DESK@studio.example"),),
        kept_apart=(("phone", "+1 212 555 0100", "ANN LEE"),),
        assignments=(("order", 7, "email:ann@x.example"), ("order", 8, "email:nobody@x.example")),
    )
    index = ContactIndex(
        [
            ("Ann", "Lee", "ann@x.example", "(212) 555-0100"),
            ("Ann", "Lee", "", "2125550100"),  # would join Ann by phone: kept apart
            ("Bo", "Ray", "desk@studio.example", "212-555-0199"),
            ("Cy", "Ray", "Desk@Studio.example", "212-555-0198"),
        ],
        seeds,
    )
    assert dict(zip(index.keys, index.merge_rules, strict=True)) == {
        "email:ann@x.example": "single",
        "manual:12125550100|ann lee": "manual",
        "phone:12125550199": "manual",
        "phone:12125550198": "manual",
    }
    assert index.match("Zed", "Zed", "desk@studio.example", "") == (None, "unmatched")
    assert index.match("Zed", "Zed", "", "212-555-0199") == (2, "phone")
    assert index.match("Ann", "Lee", "", "2125550100") == (None, "unmatched")
    assert index.match("Zed", "Zed", "", "", ("order", 7)) == (0, "manual")
    assert index.match("Zed", "Zed", "", "", ("order", 8)) == (None, "unmatched"), "names no contact: no effect"
    national = ContactIndex([("Di", "Ng", "", "212 555 0123")], Seeds(phone_country_code="44"))
    assert national.keys == ["phone:442125550123"]


def test_person_index_refuses_a_contact_that_merges_two_persons() -> None:
    rows = [(("Ann", "Lee", "same@x.example", ""), 1), (("Bo", "Ray", "same@x.example", ""), 2)]
    with pytest.raises(ValueError, match="merges persons"):
        PersonIndex(rows)
    index = PersonIndex([(("Ann", "Lee", "a@x.example", "2125550100"), 7), (("Ann", "Lee", "", "2125550100"), 7)])
    assert index.resolve("Ann", "Lee", "", "(212) 555-0100") == (7, "phone")
