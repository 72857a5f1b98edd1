"""The warehouse as Dagster's steps share it: held under ``make pipeline``'s own run lock while a step writes it."""

import contextlib
from collections.abc import Iterator

from transform.publish import exclusive_run
from transform.warehouse import Warehouse


@contextlib.contextmanager
def holding(target: Warehouse) -> Iterator[None]:
    """The warehouse's run lock (``transform.publish.exclusive_run``) for a step that writes it: ``make pipeline``
    and Dagster never overlap, and on an instance whose one-writer pool is missing, a second writer still fails in
    one line (and is retried) instead of meeting DuckDB's lock halfway."""
    target.check_folder()
    with exclusive_run(target.path):
        target.check_file()
        yield
