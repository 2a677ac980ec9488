# make run   — set up (once) and start the TUI on the embedded offline default
# make test  — set up (once), run the checks, then the whole test suite
# make check — the checks alone: ruff (lint, format), import-linter (the layers), mypy
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.turnloom-run
TEST_STAMP := $(VENV)/.turnloom-test

.PHONY: run test check setup clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip "setuptools>=77" wheel

# the app alone: quick to set up
$(RUN_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $(RUN_STAMP)

# the app with the test tools and the Ray extra (the Ray executor is tested too)
$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test,ray]'
	touch $(TEST_STAMP) $(RUN_STAMP)

setup: $(TEST_STAMP)

run: $(RUN_STAMP)
	$(BIN)/turnloom

# any violation stops `make test` before pytest (and so fails CI); grimp finds the installed
# names through .typecheck/ (the editable install's import hook is not a folder it can walk)
check: $(TEST_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	PYTHONPATH=.typecheck $(BIN)/lint-imports
	$(BIN)/mypy

test: check
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) build *.egg-info .mypy_cache .ruff_cache .import_linter_cache
