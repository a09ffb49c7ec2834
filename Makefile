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

$(STAMP): pyproject.toml
	@scripts/bootstrap python
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
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

bench: install
	@for b in bench/bench_*.py; do echo "== $$b"; $(BIN)/python $$b; done

clean:
	rm -rf $(VENV) node_modules .pytest_cache .mypy_cache .ruff_cache
