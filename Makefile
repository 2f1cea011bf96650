# CivicGrid — `make demo` and `make test` work on a fresh machine (Python 3.11 + venv).
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000
# PostgreSQL used by `make test` (the test database is test_<name>); trust auth on the local machine
PG_TEST_URL ?= postgres://postgres@127.0.0.1:5432/civicgrid
# two workers (pytest-xdist; each gets its own test database); PYTEST_ARGS="-n 0" runs in one process
PYTEST_ARGS ?= -n 2
# the browser suite drives the UI through a live server: it runs once, on SQLite (on PostgreSQL each of its tests
# empties every table after each test, the slowest part of the PostgreSQL run); PG_PYTEST_ARGS= runs it there too
PG_PYTEST_ARGS ?= --ignore=tests/browser
# tests/conftest.py appends "<database> <count>" here when browser tests were skipped (Chromium missing)
SKIP_REPORT := $(CURDIR)/var/browser-tests-skipped.txt
export CIVICGRID_SKIP_REPORT := $(SKIP_REPORT)

.PHONY: help install demo serve test test-sqlite test-pg lint fmt bench bench-quick clean

help:
	@echo "make demo   — 安装、迁移、生成示范街道并在 http://127.0.0.1:$(PORT) 启动"
	@echo "make test   — 全部测试 (SQLite，然后 PostgreSQL)"
	@echo "make lint   — ruff 检查、格式检查、分层依赖检查、迁移检查"

PIP := $(BIN)/pip install --quiet --disable-pip-version-check

# the app alone (what `make demo`/`make serve` need); the test and lint tools on top for the rest. Python 3.11's
# own pip installs a pyproject project in editable mode, so no pip/setuptools upgrade (a download) comes first.
$(BIN)/.installed-app: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) -e .
	touch $@

$(BIN)/.installed: $(BIN)/.installed-app
	$(PIP) -e '.[dev]'
	touch $@

install: $(BIN)/.installed

# `civicgrid demo` migrates first when the database is behind (one process instead of two)
demo: $(BIN)/.installed-app
	$(BIN)/civicgrid demo --port $(PORT)

serve: $(BIN)/.installed-app
	$(BIN)/civicgrid serve --port $(PORT)

test: install test-sqlite test-pg
	@if [ -s $(SKIP_REPORT) ]; then \
		echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!" >&2; \
		while read -r db n; do echo "!! 浏览器测试已跳过 / BROWSER TESTS SKIPPED: $$n tests ($$db)" >&2; done < $(SKIP_REPORT); \
		echo "!! 安装 Debian 的 chromium 与 fonts-noto-cjk 后重新运行；CI 中设置 CIVICGRID_REQUIRE_BROWSER=1 使其失败" >&2; \
		echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!" >&2; \
	fi

test-sqlite: install
	@mkdir -p var && rm -f $(SKIP_REPORT)
	@echo "== tests on SQLite =="
	env -u DATABASE_URL $(BIN)/pytest $(PYTEST_ARGS); rc=$$?; [ $$rc -ne 5 ] || echo 'pytest collected no tests: failing' >&2; exit $$rc

# Runs when PostgreSQL answers; in CI (CI=true) an unreachable PostgreSQL is a failure, not a skip.
test-pg: install
	@if $(BIN)/python -c "import psycopg,sys; psycopg.connect('$(PG_TEST_URL)'.replace('/civicgrid','/postgres'), connect_timeout=3).close()" 2>/dev/null; then \
		echo "== tests on PostgreSQL (the browser suite ran on SQLite above and is not repeated here) =="; \
		DATABASE_URL=$(PG_TEST_URL) $(BIN)/pytest $(PYTEST_ARGS) $(PG_PYTEST_ARGS); rc=$$?; [ $$rc -ne 5 ] || echo 'pytest collected no tests: failing' >&2; exit $$rc; \
	elif [ "$$CI" = "true" ]; then \
		echo "PostgreSQL at $(PG_TEST_URL) is not reachable, and CI must test on it" >&2; exit 1; \
	else \
		echo "== PostgreSQL not reachable at $(PG_TEST_URL): skipping the PostgreSQL run =="; \
	fi

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports  # layers: core <- places <- accounts <- cases <- intake | open311 | notify <- demo
	$(BIN)/civicgrid makemigrations --check --dry-run

fmt: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench-quick: install
	for b in bench/bench_*.py; do $(BIN)/python $$b --quick || exit 1; done

clean:
	rm -rf $(VENV) var .pytest_cache
