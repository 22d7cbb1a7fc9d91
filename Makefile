# The two commands of the README. Each creates the virtual environment on first use.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PYTHON ?= python3

.PHONY: serve test lint bench

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	touch $(STAMP)

## Run the service on http://127.0.0.1:8765 (state in TFEXAM_HOME or the user data folder).
serve: $(STAMP)
	$(VENV)/bin/tfexam serve $(ARGS)

## Run the whole test suite (lint included).
test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .

bench: $(STAMP)
	$(PY) tests/bench/bench_startup.py
	$(PY) tests/bench/bench_grading.py
