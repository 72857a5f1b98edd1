# Two commands set up everything on a fresh machine: `make pipeline` and `make test`.
# Each (re)creates .venv from pyproject.toml when it is missing or older than pyproject.toml.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Dagster (the orchestrate extra) on top: `make test` and `make orchestrate` need it, `make pipeline` does not
ORCHESTRATE_STAMP := $(VENV)/.orchestrate-installed
# `make docs` and `make sandbox` serve on different ports by default, so both can run at once
DOCS_PORT    ?= 8080
SANDBOX_PORT ?= 8081
# test files run in parallel, one per core (`make test TEST_WORKERS=0` runs them in this process, one after another).
# A worker that crashes ends the run at once: pytest-xdist 3.8 would start a new one and then wait forever for the
# files the dead one held (pytest-dev/pytest-xdist#784, #1378), so a crash hung CI instead of failing it.
TEST_WORKERS ?= 2

export RUNTIME__DLTHUB_TELEMETRY := false
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export DO_NOT_TRACK := 1

# `make pipeline TARGET=postgres POSTGRES_URL=postgresql://…` builds on a PostgreSQL server instead of DuckDB.
ifdef TARGET
export ACUITY_TARGET := $(TARGET)
endif
ifdef POSTGRES_URL
export ACUITY_POSTGRES_URL := $(POSTGRES_URL)
endif

.PHONY: pipeline test test-all lint chromium postgres sandbox docs sql analysis bench report forget clean orchestrate

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required (set PYTHON=...)")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "Installing the pinned dependencies into $(VENV) ..."
	@$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

$(ORCHESTRATE_STAMP): $(STAMP)
	@echo "Installing Dagster (the orchestrate extra) into $(VENV) ..."
	@$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev,orchestrate]'
	@touch $(ORCHESTRATE_STAMP)

## Extract from Acuity (or the embedded demo before any real account), build the dbt models, print the summary.
## For interactive use: cron and systemd call .venv/bin/acuity-elt, whose exit code make would turn into 2 on failure.
pipeline: $(STAMP)
	@$(BIN)/python -m transform $(ARGS)

## Lint, then run the test suite but its slowest repeat-run proofs (pytest drives the sandbox over HTTP and runs dbt's
## unit and data tests); CI runs this. `make test-all` runs every test, the `slow` ones included (pyproject.toml).
test: $(STAMP) $(ORCHESTRATE_STAMP) lint chromium postgres
	@$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile --max-worker-restart 0 -m "not slow" $(PYTEST_ARGS)

test-all: $(STAMP) $(ORCHESTRATE_STAMP) lint chromium postgres
	@$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile --max-worker-restart 0 $(PYTEST_ARGS)

## Dagster's UI and daemon on a free 127.0.0.1 port (PORT=... to pick one), on the same warehouse: docs/orchestration.md
orchestrate: $(ORCHESTRATE_STAMP)
	@$(BIN)/python -m orchestrate $(if $(PORT),--port $(PORT))

## Headless Chromium, which tests/test_report.py renders the report in (Debian's package; CI runs as root).
chromium:
	@command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)

## PostgreSQL server binaries for the server-warehouse tests (Debian's package; the tests start their own cluster).
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq postgresql >/dev/null)

lint: $(STAMP)
	@$(BIN)/ruff check .
	@$(BIN)/ruff format --check .

## Serve the Acuity emulator standalone (see `python -m sandbox --help`).
sandbox: $(STAMP)
	@$(BIN)/python -m sandbox --port $(or $(PORT),$(SANDBOX_PORT)) $(ARGS)

## Generate dbt docs (also as one offline file, static_index.html) and serve them on 127.0.0.1.
docs: $(STAMP)
	@$(BIN)/python -m transform docs --port $(or $(PORT),$(DOCS_PORT))

## An analyst SQL shell on the warehouse (read-only).
sql: $(STAMP)
	@$(BIN)/python -m transform sql

## Run ready analyses on the analysts' copy: `make analysis NAME=top_contacts_by_revenue` (NAME=all; ARGS=-csv).
analysis: $(STAMP)
	@$(BIN)/python -m transform.tools analysis $(NAME) $(ARGS)

## Benchmark the pipeline against its physical floor at three account sizes (ARGS="--sizes seed" for a quick run).
bench: $(STAMP)
	@$(BIN)/python -m bench.run $(ARGS)

## Charts of the marts in one self-contained HTML file (default warehouse/report.html; ARGS="--output PATH").
report: $(STAMP)
	@$(BIN)/python -m transform.report $(ARGS)

## Erase one person (docs/privacy.md): `make forget ARGS="--tenant default --email -"` reads the email from stdin.
forget: $(STAMP)
	@$(BIN)/python -m transform forget $(ARGS)

clean:
	rm -rf warehouse .dlt_pipelines target logs
