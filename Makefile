# siteinspect: `make run` serves the demo, `make test` runs everything on SQLite and PostgreSQL.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
# Two stamps: `make run` needs the runtime only; `make test` adds PostgreSQL, Chromium, poppler and
# the test extras on top.
STAMP := $(VENV)/.installed-run
TEST_STAMP := $(VENV)/.installed-test
PIP_INSTALL := $(BIN)/python -m pip install -q

.PHONY: run test deps run-deps lint typecheck test-sqlite test-postgres fuzz fuzz-postgres migrate demo clean

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

run: $(STAMP)
	$(BIN)/siteinspect migrate
	$(BIN)/siteinspect demo
	$(BIN)/siteinspect serve

migrate: $(STAMP)
	$(BIN)/siteinspect migrate

demo: $(STAMP)
	$(BIN)/siteinspect demo

lint: $(TEST_STAMP)
	$(BIN)/ruff check inspection api tests bench piccolo_conf.py
	$(BIN)/ruff format --check inspection api tests bench piccolo_conf.py
	$(BIN)/mypy inspection api

# In random order (pytest-randomly): the last line of the run names the seed that replays it.
PYTEST := $(BIN)/python -m pytest -q -p randomly

test-sqlite: $(TEST_STAMP)
	env -u SITEINSPECT_DATABASE_URL $(PYTEST)

test-postgres: $(TEST_STAMP)
	./scripts/with-postgres.sh $(PYTEST)

test: lint test-sqlite test-postgres

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

clean:
	rm -rf $(VENV) var
