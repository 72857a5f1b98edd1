"""What a run does with the load an interrupted run left: finish a package whose load never began, abandon one whose
load had begun (a job may have written without recording it, and would write again), re-read either way."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest

from extract.pipeline import finish_pending_load

pytestmark = pytest.mark.unit


def job(retry_count: int = 0) -> Any:
    return SimpleNamespace(job_file_info=SimpleNamespace(retry_count=retry_count))


@dataclass
class Pending:
    """Stands in for a dlt pipeline holding one normalized package."""

    jobs: dict[str, list[Any]]
    transitions: bool = False
    calls: list[str] = field(default_factory=list)

    has_pending_data = True

    def list_extracted_load_packages(self) -> list[str]:
        return []

    def list_normalized_load_packages(self) -> list[str]:
        return ["1"]

    def get_load_package_info(self, load_id: str) -> Any:
        states = ("new_jobs", "started_jobs", "completed_jobs", "failed_jobs")
        return SimpleNamespace(jobs={s: self.jobs.get(s, []) for s in states}, has_pending_transitions=self.transitions)

    def run(self) -> None:
        self.calls.append("run")

    def abort_packages(self) -> None:
        self.calls.append("abort")


def test_a_package_whose_load_never_began_is_finished() -> None:
    pending = Pending({"new_jobs": [job(), job()]})
    assert finish_pending_load(pending) == "finished loading what an interrupted run had extracted"  # type: ignore[arg-type]
    assert pending.calls == ["run"]


@pytest.mark.parametrize(
    "package",
    [
        Pending({"new_jobs": [job()], "started_jobs": [job()]}),  # a job that may have committed, unrecorded
        Pending({"new_jobs": [job()], "completed_jobs": [job()]}),
        Pending({"failed_jobs": [job()]}),
        Pending({"new_jobs": [job(retry_count=1)]}),  # retried: an earlier attempt may have written
        Pending({"new_jobs": [job()]}, transitions=True),
    ],
)
def test_a_package_whose_load_had_begun_is_abandoned_and_re_read(package: Pending) -> None:
    message = finish_pending_load(package)  # type: ignore[arg-type]
    assert package.calls == ["abort"]
    assert message is not None and "abandoned the load an interrupted run left pending" in message
