# Two commands for a newcomer: `make run` and `make test`. Both set up .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# compat: a plain path entry for the checkout; the default editable finder costs every start ~25 ms.
PIP := $(BIN)/pip install --quiet --disable-pip-version-check --config-settings editable_mode=compat

.PHONY: run test bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Stamps re-install only when pyproject.toml changes.
$(VENV)/.run: pyproject.toml | $(BIN)/python
	$(PIP) -e .
	touch $@

$(VENV)/.test: pyproject.toml | $(BIN)/python
	$(PIP) -e '.[test]'
	touch $@

$(VENV)/.bench: pyproject.toml | $(BIN)/python
	$(PIP) -e '.[test,bench]'
	touch $@

run: $(VENV)/.run
	$(BIN)/ticker run

test: $(VENV)/.test
	$(BIN)/python -m pytest

bench: $(VENV)/.bench
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .pytest_cache
