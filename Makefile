# Two commands on a fresh clone: `make run` (the demo) and `make test` (the whole suite); `make bench` measures.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi

.PHONY: run test bench bench-profile clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Reinstall only when a requirements file changes.
$(VENV)/.installed-runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt -r requirements-dev.txt
	touch $@

run: export CONSOLE_DEMO = 1
run: export WECHAT_SIMULATOR = 1
run: export FLASK_RUN_PORT = 5000
run: $(VENV)/.installed-runtime
	$(FLASK) db upgrade
	$(FLASK) demo-setup
	$(FLASK) run --host 127.0.0.1 --port 5000

# The PostgreSQL pass empties the database it is given: never point it at data you want to keep.
TEST_DATABASE_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test

test: $(VENV)/.installed-dev
	@echo "== SQLite pass =="
	$(BIN)/python -m pytest
	@if TEST_DATABASE_URL=$(TEST_DATABASE_URL) $(BIN)/python tests/postgres_check.py; then \
		echo "== PostgreSQL pass ($(TEST_DATABASE_URL)) =="; \
		TEST_DATABASE_URL=$(TEST_DATABASE_URL) $(BIN)/python -m pytest; \
	fi

# Benchmarks (README, Benchmarks): login against a bare Flask baseline, the sign-up flow, user search at a
# million users, on SQLite and PostgreSQL. They print tables and never fail for speed; `make test` runs none.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

bench: $(VENV)/.installed-dev
	@command -v wrk >/dev/null || { $(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q wrk; }
	$(BIN)/python -m bench $(BENCH_ARGS)

# The login path in one process under pyinstrument: CPU per login and the call tree (DB=sqlite|postgresql).
bench-profile: $(VENV)/.installed-dev
	$(BIN)/python -m bench.profile $(or $(DB),sqlite)

clean:
	rm -rf $(VENV) .pytest_cache
