# Two commands on a fresh clone: `make run` (the demo) and `make test` (the lint gate, then the whole suite);
# `make bench` measures, `make lint` checks style and types alone, `make lock` recompiles the locked requirements.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi

.PHONY: run test lint lock i18n bench bench-profile clean

# The venv keeps the pip that comes with Python: an unpinned `pip install --upgrade pip` would be the one download
# whose hash nothing checks, and any pip since 8 installs with --require-hashes.
$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall only when a lock changes. Every line of the locks carries its hashes, and pip refuses a file
# that matches none of them (or a package the locks do not name).
PIP_INSTALL := $(BIN)/pip install --quiet --require-hashes

$(VENV)/.installed-runtime: requirements.txt | $(BIN)/python
	$(PIP_INSTALL) -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(PIP_INSTALL) -r requirements.txt -r requirements-dev.txt
	touch $@

# The console's languages (console/i18n.py): translations/<locale>/LC_MESSAGES/messages.po is the catalogue people
# edit and git keeps (zh_CN's is under CLDR's name, zh_Hans_CN); its .mo, compiled from it by `make run` and
# `make test`, is build output git ignores.
# `make i18n` extracts every marked message from the code and templates and adds the new ones to each catalogue.
PYBABEL := $(BIN)/pybabel
CATALOGUES := $(patsubst %.po,%.mo,$(wildcard translations/*/LC_MESSAGES/messages.po))

translations/%/LC_MESSAGES/messages.mo: translations/%/LC_MESSAGES/messages.po | $(VENV)/.installed-runtime
	$(PYBABEL) -q compile -i $< -o $@

i18n: $(VENV)/.installed-dev
	$(PYBABEL) -q extract -F babel.cfg -k N_ -k _l --no-location --sort-by-file -o translations/messages.pot .
	$(PYBABEL) -q update --no-fuzzy-matching -i translations/messages.pot -d translations

run: export CONSOLE_DEMO = 1
run: export WECHAT_SIMULATOR = 1
run: export FLASK_RUN_PORT = 5000
run: $(VENV)/.installed-runtime $(CATALOGUES)
	$(FLASK) db upgrade
	$(FLASK) demo-setup
	$(FLASK) run --host 127.0.0.1 --port 5000

# The lint and type gate, settings in pyproject.toml: ruff's rules and formatting over all the Python, mypy over
# what [tool.mypy] files names (console/). All three run, so one pass shows every finding; any finding fails.
LINT_PATHS := console tests bench wsgi.py gunicorn.conf.py

lint: $(VENV)/.installed-dev
	@status=0; \
	echo "== ruff check =="; $(BIN)/ruff check $(LINT_PATHS) || status=1; \
	echo "== ruff format --check =="; $(BIN)/ruff format --check $(LINT_PATHS) || status=1; \
	echo "== mypy =="; $(BIN)/mypy || status=1; \
	exit $$status

# The PostgreSQL pass empties the database it is given: never point it at data you want to keep.
TEST_DATABASE_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test

test: $(VENV)/.installed-dev lint $(CATALOGUES)
	@echo "== SQLite pass =="
	$(BIN)/python -m pytest
	@if TEST_DATABASE_URL=$(TEST_DATABASE_URL) $(BIN)/python tests/postgres_check.py; then \
		echo "== PostgreSQL pass ($(TEST_DATABASE_URL)) =="; \
		TEST_DATABASE_URL=$(TEST_DATABASE_URL) $(BIN)/python -m pytest; \
	fi

# The locks: requirements*.in name the direct dependencies, uv compiles them with hashes for Python 3.11 on any
# platform. A pin that still satisfies the .in files is kept: `make lock LOCK_ARGS=--upgrade` moves them all,
# LOCK_ARGS="--upgrade-package NAME" one. The runtime lock first: requirements-dev.in is constrained by it.
UV_COMPILE := $(BIN)/uv pip compile --quiet --universal --python-version 3.11 --generate-hashes \
	--custom-compile-command "make lock" $(LOCK_ARGS)

lock: $(VENV)/.installed-dev
	$(UV_COMPILE) -o requirements.txt requirements.in
	$(UV_COMPILE) -o requirements-dev.txt requirements-dev.in

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
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
