# The README's commands. Each target is idempotent: it installs only what is missing or out of date.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test install system-deps lint fmt typecheck migrate seed bench clean

## run: install, migrate, seed the demo data and serve the site at http://127.0.0.1:5000
run: install
	$(BIN)/marketplace db upgrade
	$(BIN)/marketplace seed
	$(BIN)/marketplace run --host $(HOST) --port $(PORT)

## test: install (including Chromium and the npm test servers) and run the whole test suite
test: install system-deps
	$(BIN)/python -m pytest $(PYTEST_ARGS)

install: $(STAMP)

$(STAMP): pyproject.toml clients/python/pyproject.toml
	@scripts/bootstrap python
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m pip install --quiet -e clients/python
	@touch $(STAMP)

system-deps:
	@scripts/bootstrap chromium node tools
	@if [ -f package-lock.json ]; then \
	  if [ ! -f node_modules/.installed ] || [ package-lock.json -nt node_modules/.installed ]; then \
	    npm ci --no-audit --no-fund --loglevel=error && touch node_modules/.installed; fi; fi

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

fmt: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: install
	$(BIN)/mypy

migrate: install
	$(BIN)/marketplace db upgrade

seed: install
	$(BIN)/marketplace seed

## bench: every benchmark at small sizes (`--quick`, a few minutes in all); fails if any of them fails
BENCH_STAMP := $(VENV)/.bench-installed

$(BENCH_STAMP): $(STAMP) pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	@touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	@failed=""; for b in bench/bench_*.py bench/compare_peers.py; do \
	  echo "== $$b --quick"; $(BIN)/python $$b --quick || failed="$$failed $$b"; done; \
	  if [ -n "$$failed" ]; then echo "benchmarks that failed:$$failed"; exit 1; fi

clean:
	rm -rf $(VENV) node_modules .pytest_cache .mypy_cache .ruff_cache
