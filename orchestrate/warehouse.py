"""The warehouse as Dagster's steps share it: held under ``make pipeline``'s own run lock while a step writes it."""

import contextlib
from collections.abc import Callable, Iterator

from transform.errors import PipelineError
from transform.publish import exclusive_run
from transform.warehouse import Warehouse


@contextlib.contextmanager
def holding(target: Warehouse, log: Callable[[str], None]) -> Iterator[None]:
    """The warehouse's run lock (``transform.publish.exclusive_run``) for a step that writes it, waited for.

    The one-writer pool orders Dagster's steps, but on Dagster's default SQLite storage two steps claiming its slot
    in the same instant can both get it (it has no row locks); and ``make pipeline`` knows no pool. The lock makes
    the second writer wait, whoever it is, instead of meeting DuckDB's lock halfway.
    """
    target.check_folder()
    with contextlib.ExitStack() as stack:
        try:
            stack.enter_context(exclusive_run(target.path))
        except PipelineError as busy:
            log(f"waiting: {busy}")
            stack.enter_context(exclusive_run(target.path, wait=True))
        target.check_file()
        yield
