"""`python -m sandbox --help` documents every flag."""

from __future__ import annotations

import argparse

import pytest

from sandbox.__main__ import build_parser

pytestmark = pytest.mark.unit


def test_every_flag_has_help_text() -> None:
    parser = build_parser()
    flags = [action for action in parser._actions if action.option_strings]
    assert len(flags) >= 10
    for action in flags:
        assert action.help and action.help != argparse.SUPPRESS, action.option_strings
        assert len(action.help) > 15, action.option_strings
    text = parser.format_help()
    assert all(action.option_strings[-1] in text for action in flags)


def test_defaults_parse() -> None:
    args = build_parser().parse_args(["--scenario", "large", "--appointments", "5", "--as-of", "2026-01-02"])
    assert (args.scenario, args.appointments, args.as_of.isoformat(), args.port) == ("large", 5, "2026-01-02", 8765)
