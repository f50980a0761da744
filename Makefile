# The two commands: `make run` starts the platform, `make test` runs every test.
# Each creates .venv on first use from the pinned lock file.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test lint typecheck check openapi docs clean bench

run: $(STAMP)
	$(BIN)/gov21 up

test: $(STAMP)
	GOV21_DATA_DIR=$${GOV21_TEST_DATA_DIR:-var/test} $(BIN)/pytest -n 2 --dist loadgroup

$(STAMP): requirements.lock pyproject.toml src/gov21/geo/data/maplibre.lock.json
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	# MapLibre GL JS from the npm registry, checked against its locked sha512 (decision 0053); a failed
	# download is a warning: maps are then drawn on the server only.
	$(BIN)/python -m gov21.geo.vendor
	touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy src

openapi: $(STAMP)
	GOV21_DATA_DIR=var/tmp $(BIN)/gov21 openapi --write docs/openapi.json
	GOV21_DATA_DIR=var/tmp $(BIN)/gov21 docs_config

lock:
	$(BIN)/uv pip compile pyproject.toml --extra dev -o requirements.lock --python-version 3.11

clean:
	rm -rf $(VENV) var
