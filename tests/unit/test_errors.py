"""The one line a failed sync prints: the cause a user can act on, not dlt's wrapper around it."""

from __future__ import annotations

import pytest

from extract.errors import AcuityAuthError
from extract.pipeline import one_line

pytestmark = pytest.mark.unit


def test_one_line_finds_the_acuity_cause_inside_wrappers() -> None:
    try:
        try:
            raise AcuityAuthError("Acuity refused the credentials for user id 1 (HTTP 401)")
        except AcuityAuthError as cause:
            raise RuntimeError("Pipeline execution failed at stage extract\n  with a long\n  description") from cause
    except RuntimeError as wrapper:
        assert one_line(wrapper) == "Acuity refused the credentials for user id 1 (HTTP 401)"


def test_one_line_of_a_foreign_error_names_its_type_on_one_line() -> None:
    line = one_line(OSError("disk\nfull"))
    assert line == "OSError: disk full"
