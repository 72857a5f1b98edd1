"""The record contract is one definition: every record-level constraint of the dbt models is kept true either by a
rule of extract/contract.py (a field's check, quarantine or fallback) or is derived by the pipeline or the models, and
every constraint the contract names exists. A constraint added without either fails here."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from extract.contract import DERIVED, FALLBACKS, FIELDS, GUARDS, REQUIRED

pytestmark = pytest.mark.unit

MODELS = Path(__file__).resolve().parents[2] / "models"
# generic tests that judge one record at a time (aggregates and seeds are not a record's doing)
RECORD_TESTS = {"not_null", "unique", "accepted_values", "relationships", "primary_key", "expression_is_true"}


def _test_name(test: object) -> str:
    return test if isinstance(test, str) else next(iter(test))  # type: ignore[arg-type]


def model_constraints() -> Iterator[str]:
    """Every record-level constraint of every model, as ``<model>.<column>:<test>`` or ``<model>:<test>``."""
    for path in sorted(MODELS.rglob("*.yml")):
        for model in yaml.safe_load(path.read_text()).get("models", []):
            name = model["name"]
            for test in model.get("data_tests") or []:
                if _test_name(test) in RECORD_TESTS:
                    yield f"{name}:{_test_name(test)}"
            for column in model.get("columns") or []:
                for constraint in column.get("constraints") or []:
                    yield f"{name}.{column['name']}:{constraint['type']}"
                for test in column.get("data_tests") or []:
                    if _test_name(test) in RECORD_TESTS:
                        yield f"{name}.{column['name']}:{_test_name(test)}"


def test_every_record_level_constraint_is_kept_by_a_rule_or_derived() -> None:
    constraints = set(model_constraints())
    guarded = {name for names in GUARDS.values() for name in names}
    assert constraints - guarded - set(DERIVED) == set(), "constraints no contract rule keeps and none derives"
    assert guarded & set(DERIVED) == set(), "a constraint is both guarded and derived"


def test_every_constraint_the_contract_names_exists() -> None:
    constraints = set(model_constraints())
    named = {name for names in GUARDS.values() for name in names} | set(DERIVED)
    assert named - constraints == set(), "the contract names constraints the models no longer have"


def test_every_guard_fallback_and_required_key_is_a_field_of_the_contract() -> None:
    for resource, key in [*GUARDS, *FALLBACKS, *((r, k) for r, keys in REQUIRED.items() for k in keys)]:
        assert key in FIELDS[resource], (resource, key)


@pytest.mark.parametrize(
    ("answered", "expected"),
    [
        (10001, "10001"),
        ("10001", "10001"),
        (" 10001 ", "10001"),
        ({"id": 10001}, None),
        (10001.0, None),
        ("10001.0", None),
        (True, None),
        (0, None),
        (-5, None),
        ("", None),
        (None, None),
        (2**64, None),
    ],
)
def test_an_account_id_is_a_positive_integer_or_its_text(answered: object, expected: str | None) -> None:
    from extract.source import account_identity

    assert account_identity({"id": answered}, "https://acuityscheduling.com/api/v1") == (
        expected,
        "acuityscheduling.com",
    )
