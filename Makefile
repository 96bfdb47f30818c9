# The two commands: `make run` and `make test`. Both create .venv when it is missing.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip install --disable-pip-version-check -q -c constraints.txt
CHROMIUM ?= /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run serve test lint typecheck pytest bench load chromium clean

run: $(VENV)/.installed
	$(BIN)/uvicorn app.main:app --host 127.0.0.1 --port 8000

# A deployment: WORKERS processes (default one per core) on HOST:PORT (default 0.0.0.0:8000),
# sharing the upload directory DROPOUT_LAB_UPLOADS (default var/uploads).
serve: $(VENV)/.installed
	HOST=$${HOST:-0.0.0.0} $(BIN)/dropout-lab serve

test: $(VENV)/.installed-dev chromium lint typecheck pytest

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/hadolint Dockerfile
	$(BIN)/check-jsonschema --builtin-schema vendor.compose-spec compose.yaml
	$(BIN)/lint-imports

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy

# pytest exits with status 5 when it collects no test, which fails the target. The suite runs
# in three workers (pytest-xdist), a file per worker at a time: its servers, browser and upload
# directories are the worker's own. The slowest tests are listed at the end (where to speed up).
pytest: $(VENV)/.installed-dev
	$(BIN)/pytest -n 3 --dist loadfile --durations=25

bench: $(VENV)/.installed-dev chromium
	$(BIN)/python -m benchmarks

# The load test (not part of make test): the server as `make serve` runs it, on loopback,
# at 50 and at 200 simulated users, bounded in time; the figures are in the README.
load: $(VENV)/.installed-dev
	$(BIN)/python -m benchmarks.load

chromium:
	@test -x $(CHROMIUM) || { $(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q chromium; }

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml constraints.txt | $(BIN)/python
	$(PIP) -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml constraints.txt | $(BIN)/python
	$(PIP) -e '.[dev]'
	touch $@ $(VENV)/.installed

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
