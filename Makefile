# Anshin — `make run` (demo on SQLite, web + clock) and `make test` (SQLite, then PostgreSQL).
SHELL := /bin/bash
.DEFAULT_GOAL := help

# uv from PATH if it works, else bootstrapped into .tools/ (system pip may be "externally managed").
UV := $(shell uv --version >/dev/null 2>&1 && echo uv || echo .tools/bin/uv)
PY := .venv/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
PG_URL ?= postgres://postgres@127.0.0.1:5432/anshin
PYTEST_ARGS ?=

.PHONY: help sync run test lint flowdocs bench

help:
	@echo "make run       demo on http://$(HOST):$(PORT)/ (SQLite, demo data, web server + clock)"
	@echo "make test      all tests on SQLite, then on PostgreSQL at 127.0.0.1:5432 (PYTEST_ARGS=... passes through)"
	@echo "make lint      ruff check"
	@echo "make flowdocs  regenerate docs/flows.md from the flow tables"
	@echo "make bench     run the benchmarks and write docs/benchmarks.md"

.tools/bin/uv:
	python3 -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv

# The lock is committed: --frozen installs exactly it (dev group included, so run and test share one .venv).
sync: | $(filter .tools/bin/uv,$(UV))
	@$(UV) sync --frozen

# The demo: debug on, time travel allowed (never in production), logs unbuffered.
run: export DJANGO_DEBUG := 1
run: export ANSHIN_ALLOW_TIME_TRAVEL := 1
run: export PYTHONUNBUFFERED := 1
run: sync
	$(PY) manage.py migrate --no-input
	$(PY) manage.py seed_demo
	@$(PY) manage.py tick --loop 5 & tick=$$!; \
	$(PY) manage.py runserver $(HOST):$(PORT) --noreload & web=$$!; \
	trap 'trap "" INT TERM; kill $$tick $$web 2>/dev/null; wait; echo "Anshin stopped (web server and clock)."' EXIT; \
	trap 'exit 0' INT TERM; \
	echo "Anshin: http://$(HOST):$(PORT)/  (web server + clock ticking every 5 s; Ctrl-C stops both)"; \
	wait -n $$web $$tick

test: sync
	@status=0; \
	echo "== pytest on SQLite =="; \
	$(PY) -m pytest -n 2 $(PYTEST_ARGS) || status=$$?; \
	if [ $$status -ne 0 ]; then echo "!! SQLite pass FAILED (pytest exit $$status)"; fi; \
	if $(PY) -c "import psycopg; psycopg.connect('$(PG_URL)'.rsplit('/', 1)[0] + '/postgres', connect_timeout=3).close()" 2>/dev/null; then \
		echo "== pytest on PostgreSQL ($(PG_URL)) =="; \
		pg=0; DATABASE_URL=$(PG_URL) $(PY) -m pytest -n 2 $(PYTEST_ARGS) || pg=$$?; \
		if [ $$pg -ne 0 ]; then echo "!! PostgreSQL pass FAILED (pytest exit $$pg)"; status=$$pg; fi; \
	else \
		echo; \
		echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"; \
		echo "!! WARNING: PostgreSQL is not reachable ($(PG_URL)) — the PostgreSQL pass was SKIPPED."; \
		echo "!! Row locks, SKIP LOCKED races and the ledger triggers were NOT tested."; \
		echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"; \
		if [ "$${CI:-}" = "true" ]; then echo "!! CI=true: failing."; status=1; fi; \
	fi; \
	exit $$status

lint: sync
	$(PY) -m ruff check .

flowdocs: sync
	$(PY) manage.py flowdocs

# PostgreSQL at 127.0.0.1:5432 (BENCH_PG_URL); wrk, the load generator, from Debian if missing. BENCH_QUICK=1: smoke test.
bench: sync
	@command -v wrk >/dev/null || $$(command -v sudo) apt-get install -y wrk || { $$(command -v sudo) apt-get update && $$(command -v sudo) apt-get install -y wrk; }
	$(PY) bench/run.py
