# Flightdeck: `make run` (demo on http://127.0.0.1:5000) and `make test` (the whole suite).
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
PG_TEST_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/flightdeck_test
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: run install install-dev test test-postgres test-sqlite lint format bench clean

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null || { echo "Flightdeck needs $(PYTHON) on PATH"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.lock | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.lock
	@touch $@

$(VENV)/.dev: requirements-dev.lock | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.lock
	@touch $@ $(VENV)/.runtime

install: $(VENV)/.runtime
install-dev: $(VENV)/.dev

# The demo: SQLite under instance/, jobs inline (no REDIS_URL), the Graph API sandbox standing
# in for Meta on 127.0.0.1:$(SANDBOX_PORT), demo users and data seeded (a real sync included).
SANDBOX_PORT ?= 8765
run: install
	@mkdir -p instance
	$(FLASK) db upgrade
	@set -e; \
	$(FLASK) ads sandbox --port $(SANDBOX_PORT) > instance/sandbox.log 2>&1 & sandbox=$$!; \
	trap 'kill $$sandbox 2>/dev/null' EXIT INT TERM; \
	export META_GRAPH_URL=http://127.0.0.1:$(SANDBOX_PORT) REDIS_URL= ; \
	for i in $$(seq 50); do \
	  $(BIN)/python -c "import urllib.request as u; u.urlopen('http://127.0.0.1:$(SANDBOX_PORT)/__sandbox/stats', timeout=1)" 2>/dev/null && break; sleep 0.2; \
	done; \
	$(FLASK) demo seed; \
	echo ""; \
	echo "Flightdeck is starting on http://127.0.0.1:5000 — sign in with a login above."; \
	$(FLASK) run --host 127.0.0.1 --port 5000

# The whole suite on PostgreSQL (production) and on SQLite (the embedded default).
test: install-dev lint test-postgres test-sqlite

test-postgres: install-dev
	TEST_DATABASE_URL=$(PG_TEST_URL) $(BIN)/python -m pytest $(PYTEST_ARGS)

test-sqlite: install-dev
	TEST_DATABASE_URL=sqlite:// $(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: install-dev
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
