"""The benchmark's history target judges only the account it is set for, and says so when that account did not run.

A smaller account's history is a few seconds of dbt, within the shared machine's noise: judging it would let a run
without the 1M account print "met" for a target it never measured.
"""

from __future__ import annotations

from typing import Any

import pytest

from bench import report

pytestmark = pytest.mark.unit

TARGET = "no-change daily end-to-end, whole history ÷ only its own window as history"


def _sync(wall: float) -> dict[str, Any]:
    return {
        "ok": True,
        "wall_seconds": wall,
        "floor": {},
        "http": {"requests": 7, "http_429": 0},
        "peak_rss_tree_bytes": 0,
    }


def _size(full: float, window_only: float, versions: tuple[int, int]) -> dict[str, Any]:
    return {
        "syncs": {"backfill": _sync(full * 2), "daily": _sync(full)},
        "history": {
            "daily": _sync(window_only),
            "appointment_versions": {"whole history": versions[0], "window only": versions[1]},
        },
    }


def _history_target(sizes: dict[str, Any]) -> dict[str, Any]:
    return next(t for t in report.evaluate({"sizes": sizes}) if t["target"] == TARGET)


def test_the_large_accounts_ratio_is_judged() -> None:
    target = _history_target(
        {"medium": _size(10.0, 10.0, (100_000, 30_000)), "large": _size(50.0, 25.0, (1_000_000, 300_000))}
    )
    assert target["value"] == pytest.approx(2.0)
    assert target["met"] is False
    assert target["where"].startswith("large daily on 1,000,000 appointment versions ÷ on 300,000")


def test_without_the_large_account_the_medium_ratio_is_printed_but_not_judged() -> None:
    target = _history_target({"medium": _size(9.8, 9.1, (100_000, 29_654))})
    assert (target["value"], target["met"]) == (None, None)
    assert target["where"] == (
        "large not run (medium daily on 100,000 appointment versions ÷ on 29,654, same account and window: 1.08 x)"
    )


def test_a_failed_window_only_daily_is_not_measured() -> None:
    sizes = {"large": _size(50.0, 25.0, (1_000_000, 300_000))}
    sizes["large"]["history"]["daily"]["ok"] = False
    assert _history_target(sizes)["where"] == "large: its window-only daily did not run or failed"
