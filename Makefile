# siteinspect: `make run` serves the demo, `make test` runs everything on SQLite and PostgreSQL.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
# Two stamps: `make run` needs the runtime only; `make test` adds PostgreSQL, Chromium, poppler and
# the test extras on top.
STAMP := $(VENV)/.installed-run
TEST_STAMP := $(VENV)/.installed-test
PIP_INSTALL := $(BIN)/python -m pip install -q

.PHONY: run test deps run-deps lint typecheck test-sqlite test-postgres test-tablet tablet fuzz fuzz-postgres guard-check migrate demo clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(STAMP): pyproject.toml scripts/install-system-deps.sh | $(BIN)/python
	./scripts/install-system-deps.sh run
	$(PIP_INSTALL) -e .
	touch $(STAMP)

$(TEST_STAMP): $(STAMP)
	./scripts/install-system-deps.sh test
	$(PIP_INSTALL) -e '.[test]'
	touch $(TEST_STAMP)

run-deps: $(STAMP)

deps: $(TEST_STAMP)

# The tablet app (tablet/): npm ci when the lockfile changes, then esbuild into tablet/dist, which
# the server serves at /tablet/. Node 18 or later (scripts/install-system-deps.sh installs Debian's).
TABLET_SOURCES := $(shell find tablet/src tablet/public -type f 2>/dev/null) tablet/build.mjs tablet/package.json
TABLET_MODULES := tablet/node_modules/.package-lock.json

$(TABLET_MODULES): tablet/package-lock.json | $(STAMP)
	cd tablet && npm ci --no-audit --no-fund --loglevel=error
	touch $@

tablet/dist/index.html: $(TABLET_MODULES) $(TABLET_SOURCES)
	cd tablet && node build.mjs

tablet: tablet/dist/index.html

# The app's logic with Node's own test runner (outbox, pages and cursors, merge, EXIF, checks).
test-tablet: $(TABLET_MODULES)
	cd tablet && node --test test/*.test.mjs

run: $(STAMP) tablet
	$(BIN)/siteinspect migrate
	$(BIN)/siteinspect demo
	$(BIN)/siteinspect serve

migrate: $(STAMP)
	$(BIN)/siteinspect migrate

demo: $(STAMP)
	$(BIN)/siteinspect demo

lint: $(TEST_STAMP)
	$(BIN)/ruff check inspection api tests bench scripts piccolo_conf.py
	$(BIN)/ruff format --check inspection api tests bench scripts piccolo_conf.py
	$(BIN)/mypy inspection api

# In random order (pytest-randomly): the last line of the run names the seed that replays it.
PYTEST := $(BIN)/python -m pytest -q -p randomly

test-sqlite: $(TEST_STAMP) tablet
	env -u SITEINSPECT_DATABASE_URL $(PYTEST)

test-postgres: $(TEST_STAMP) tablet
	./scripts/with-postgres.sh $(PYTEST)

test: lint test-tablet test-sqlite test-postgres

# The API fuzz tests of `make test` with many more examples per operation; not part of `make test`.
# FUZZ_WORKERS processes at once, each fuzzing its share of the operations against its own server
# and database (scripts/fuzz-shards.sh); var/fuzz/ keeps their output.
FUZZ_EXAMPLES ?= 500
FUZZ_WORKERS ?= 2
FUZZ := $(BIN)/python -m pytest -q -s -p no:randomly tests/security/test_fuzz.py tests/security/test_fuzz_stateful.py

fuzz: $(TEST_STAMP)
	env -u SITEINSPECT_DATABASE_URL SITEINSPECT_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) ./scripts/fuzz-shards.sh $(FUZZ_WORKERS) $(FUZZ)

fuzz-postgres: $(TEST_STAMP)
	SITEINSPECT_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) ./scripts/with-postgres.sh ./scripts/fuzz-shards.sh $(FUZZ_WORKERS) $(FUZZ)

# For each README guarantee, remove the code that keeps it (scripts/guards.py) in a scratch copy and
# check that its tests then fail; not part of `make test` (it runs the guarded tests once per guard).
guard-check: $(TEST_STAMP) tablet
	./scripts/with-postgres.sh $(BIN)/python scripts/guard_check.py $(GUARDS)

clean:
	rm -rf $(VENV) var tablet/node_modules tablet/dist
