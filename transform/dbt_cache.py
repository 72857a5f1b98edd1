"""Keep, between dbt runs, two things dbt recomputes identically in every process.

- The Python code Jinja compiles from dbt's macros and models. dbt renders every materialization, adapter macro and
  test from source in each process; on a small account compiling them was ~40% of the daily ``dbt build`` (~1 s
  of 2.5 s), far more than the SQL itself.
- The JSON schemas mashumaro derives from dbt's config dataclasses to validate dbt_project.yml and profiles.yml
  (~0.4 s of each partial parse).

Both are pure functions of their input text and of the installed packages, so one file per set of installed versions
(under dbt's target directory, beside its own partial-parse cache) holds them. A changed macro or model is a new key;
an upgraded package or Python is a new file. Loading the file is a few milliseconds; the only cost of a cold or
deleted cache is the time dbt would have spent anyway. ``marshal`` stores the compiled code objects as Python's own
``.pyc`` files do; like those, the file is trusted as much as the project directory it lives in.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.metadata
import importlib.util
import marshal
import os
import sys
from pathlib import Path
from types import CodeType
from typing import Any

_PACKAGES = (
    *("jinja2", "markupsafe", "mashumaro"),
    *("dbt-core", "dbt-common", "dbt-adapters", "dbt-duckdb", "dbt-postgres"),
)
# the settings of a Jinja environment that shape the code it generates, besides its class and extensions
_JINJA_SETTINGS = (
    *("block_start_string", "block_end_string", "variable_start_string", "variable_end_string"),
    *("comment_start_string", "comment_end_string", "line_statement_prefix", "line_comment_prefix"),
    *("trim_blocks", "lstrip_blocks", "newline_sequence", "keep_trailing_newline"),
    *("optimized", "is_async", "autoescape"),
)
_MAX_ENTRIES = 4000  # a project's macros and models are a few hundred; each edit adds a key


def _installed() -> str:
    """What the cached values depend on besides their own text: Python's bytecode and the packages that compile."""
    versions = [sys.version, importlib.util.MAGIC_NUMBER.hex()]
    for package in _PACKAGES:
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            versions.append(f"{package}=={importlib.metadata.version(package)}")
    return hashlib.sha256("\n".join(versions).encode()).hexdigest()[:16]


def _template_key(environment: Any, source: str, name: str | None, filename: str | None, defer_init: bool) -> str:
    """Everything that decides the code Jinja compiles a template to: its text, names and the environment's kind."""
    kind = type(environment)
    parts = [f"{kind.__module__}.{kind.__qualname__}", repr(sorted(environment.extensions))]
    parts += [repr(getattr(environment, setting, None)) for setting in _JINJA_SETTINGS]
    parts.append(getattr(environment.finalize, "__qualname__", repr(environment.finalize)))
    parts += [repr(name), repr(filename), repr(defer_init), source]
    return "jinja:" + hashlib.sha256("\x00".join(parts).encode()).hexdigest()


class DbtCache:
    """The cache file of one target directory, patched into jinja2 and dbt_common for this process."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / "acuity_cache" / f"dbt-{_installed()}.marshal"
        self.entries: dict[str, Any] = {}
        with contextlib.suppress(OSError, EOFError, ValueError, TypeError):
            loaded = marshal.loads(self.path.read_bytes())
            if isinstance(loaded, dict):
                self.entries = loaded
        self.used: set[str] = set()
        self.added = 0

    def install(self) -> None:
        """Route Jinja's compile and dbt's schema builder through the cache (dbt must be imported already)."""
        import jinja2
        from dbt_common.dataclass_schema import dbtClassMixin

        cache = self
        compile_source = jinja2.Environment.compile

        @functools.wraps(compile_source)
        def cached_compile(
            self: jinja2.Environment,
            source: Any,
            name: str | None = None,
            filename: str | None = None,
            raw: bool = False,
            defer_init: bool = False,
        ) -> CodeType | str:
            if raw or not isinstance(source, str) or os.environ.get("DBT_MACRO_DEBUGGING"):
                return compile_source(self, source, name, filename, raw, defer_init)
            key = _template_key(self, source, name, filename, defer_init)
            code = cache.get(key)
            if not isinstance(code, CodeType):
                code = compile_source(self, source, name, filename, raw, defer_init)
                cache.put(key, code)
            return code

        jinja2.Environment.compile = cached_compile  # type: ignore[method-assign]

        built = dbtClassMixin.__dict__.get("json_schema")
        if not isinstance(built, classmethod):  # dbt_common changed how it builds schemas: leave it alone
            return
        build_schema = built.__func__

        @functools.lru_cache
        def json_schema(cls: type) -> dict[str, Any]:
            key = f"schema:{cls.__module__}.{cls.__qualname__}"
            schema = cache.get(key)
            if not isinstance(schema, dict):
                schema = build_schema(cls)
                cache.put(key, schema)
            return schema

        dbtClassMixin.json_schema = classmethod(json_schema)  # type: ignore[assignment]

    def get(self, key: str) -> Any:
        self.used.add(key)
        return self.entries.get(key)

    def put(self, key: str, value: Any) -> None:
        try:
            marshal.dumps(value)
        except ValueError:  # e.g. a schema holding a str subclass (dbt's Severity): exact or not at all
            return
        self.entries[key] = value
        self.added += 1

    def save(self) -> None:
        """Write the file when this process compiled something new (atomically: several dbt processes may share it)."""
        if not self.added:
            return
        entries = self.entries
        if len(entries) > _MAX_ENTRIES:  # edited models leave stale keys behind: keep what this run used
            entries = {key: value for key, value in entries.items() if key in self.used}
        partial = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        with contextlib.suppress(OSError, ValueError):  # a cache that cannot be written only costs time
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                partial.write_bytes(marshal.dumps(entries))
                os.replace(partial, self.path)
                for stale in self.path.parent.glob("dbt-*.marshal"):  # written by other package versions
                    if stale != self.path:
                        stale.unlink()
            finally:
                partial.unlink(missing_ok=True)
