# siteinspect: `make run` serves the demo, `make test` runs everything on SQLite and PostgreSQL.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test deps lint typecheck test-sqlite test-postgres fuzz fuzz-postgres migrate demo clean

$(STAMP): pyproject.toml scripts/install-system-deps.sh
	./scripts/install-system-deps.sh
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

deps: $(STAMP)

run: $(STAMP)
	$(BIN)/siteinspect migrate
	$(BIN)/siteinspect demo
	$(BIN)/siteinspect serve

migrate: $(STAMP)
	$(BIN)/siteinspect migrate

demo: $(STAMP)
	$(BIN)/siteinspect demo

lint: $(STAMP)
	$(BIN)/ruff check inspection api tests bench piccolo_conf.py
	$(BIN)/ruff format --check inspection api tests bench piccolo_conf.py
	$(BIN)/mypy inspection api

# In random order (pytest-randomly): the last line of the run names the seed that replays it.
PYTEST := $(BIN)/python -m pytest -q -p randomly

test-sqlite: $(STAMP)
	env -u SITEINSPECT_DATABASE_URL $(PYTEST)

test-postgres: $(STAMP)
	./scripts/with-postgres.sh $(PYTEST)

test: lint test-sqlite test-postgres

# The API fuzz tests of `make test` with many more examples per operation; not part of `make test`.
# FUZZ_WORKERS processes at once, each fuzzing its share of the operations against its own server
# and database (scripts/fuzz-shards.sh); var/fuzz/ keeps their output.
FUZZ_EXAMPLES ?= 500
FUZZ_WORKERS ?= 2
FUZZ := $(BIN)/python -m pytest -q -s -p no:randomly tests/security/test_fuzz.py tests/security/test_fuzz_stateful.py

fuzz: $(STAMP)
	env -u SITEINSPECT_DATABASE_URL SITEINSPECT_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) ./scripts/fuzz-shards.sh $(FUZZ_WORKERS) $(FUZZ)

fuzz-postgres: $(STAMP)
	SITEINSPECT_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) ./scripts/with-postgres.sh ./scripts/fuzz-shards.sh $(FUZZ_WORKERS) $(FUZZ)

clean:
	rm -rf $(VENV) var
