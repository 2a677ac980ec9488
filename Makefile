# make run  — set up (once) and start the TUI on the embedded offline default
# make test — set up (once) and run the whole test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.turnloom-installed

.PHONY: run test setup bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip "setuptools>=70" wheel
	$(BIN)/python -m pip install --quiet -e '.[test,ray]'
	touch $(STAMP)

setup: $(STAMP)

run: $(STAMP)
	$(BIN)/turnloom

test: $(STAMP)
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) build *.egg-info
