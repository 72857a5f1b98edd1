"""dbt's compiled templates and config schemas are kept between runs (transform.dbt_cache), and change nothing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conftest import Env

from transform.dbt import target_path
from transform.paths import PROJECT_DIR

# One dbt-like process: renders templates the way dbt does (dbt_common's environments, its materialization and test
# extensions) and validates a dbt_project.yml against dbt's own contract, with the cache installed.
PROCESS = """
import json, sys
from pathlib import Path
from transform.dbt_cache import DbtCache

cache = DbtCache(Path(sys.argv[1]))
cache.install()
from dbt.contracts.project import Project
from dbt_common.clients.jinja import get_template

templates = json.loads(sys.argv[2])
rendered = [get_template(text, {}).render({"n": 3}) for text in templates]
module = get_template("{% macro twice(x) %}{{ x }}{{ x }}{% endmacro %}", {}).make_module(vars={}, shared=False)
rendered.append(str(module.__dict__["dbt_macro__twice"]("b")))  # how dbt calls a macro
try:
    get_template("{% if %}", {})
    syntax = None
except Exception as error:
    syntax = type(error).__name__
Project.validate({"name": "acuity", "version": "1.0.0", "config-version": 2, "profile": "acuity"})
try:
    Project.validate({"name": "acuity", "version": "1.0.0", "config-version": 2, "profile": 7})
    invalid = None
except Exception as error:
    invalid = type(error).__name__
cache.save()
print(json.dumps({"rendered": rendered, "syntax": syntax, "invalid": invalid, "added": cache.added}))
"""

TEMPLATES = [
    "{{ 'a' ~ 'a' }}-{% for i in range(n) %}{{ i }}{% endfor %}",
    "{% set rows = [] %}{% do rows.append(n * 2) %}{{ rows | join(',') }}",
    "{% materialization table, default %}{{ return({'relations': []}) }}{% endmaterialization %}ok",
]


def dbt_like_process(directory: Path, templates: list[str]) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", PROCESS, str(directory), json.dumps(templates)],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_a_warm_cache_compiles_nothing_and_renders_and_validates_the_same(tmp_path: Path) -> None:
    cold = dbt_like_process(tmp_path, TEMPLATES)
    assert cold["rendered"] == ["aa-012", "6", "ok", "bb"]
    assert cold["syntax"] == "CompilationError" and cold["invalid"] == "ValidationError"
    assert cold["added"] == len(TEMPLATES) + 2  # each template, the macro, and the Project schema
    (cache_file,) = (tmp_path / "acuity_cache").glob("dbt-*.marshal")

    warm = dbt_like_process(tmp_path, TEMPLATES)
    assert warm == {**cold, "added": 0}

    edited = [*TEMPLATES[:2], TEMPLATES[2].replace("ok", "edited")]
    assert dbt_like_process(tmp_path, edited) == {**cold, "rendered": ["aa-012", "6", "edited", "bb"], "added": 1}

    cache_file.write_bytes(b"not a cache")
    assert dbt_like_process(tmp_path, TEMPLATES) == cold  # a broken file is rebuilt, never trusted


def test_the_daily_run_reuses_what_earlier_runs_compiled(env: Env) -> None:
    assert env.sync().failures == []  # the backfill: a full parse, and the incremental sync_metrics created
    assert env.sync().failures == []  # the first daily run adds the incremental branch of sync_metrics
    (cache_file,) = (target_path() / "acuity_cache").glob("dbt-*.marshal")
    kept = cache_file.read_bytes()

    assert env.sync().failures == []

    assert cache_file.read_bytes() == kept, "a run with unchanged models compiled something new"
    env.assert_marts_equal_ground_truth()
