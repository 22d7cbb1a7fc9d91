# The two commands of the README. Each creates the virtual environment on first use.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PYTHON ?= python3

.PHONY: serve test lint bench soak

# Set-up with uv (wheels only, resolved and installed in parallel), configured from pip's own
# settings by tools/uv_install.py; uv itself comes from the package index through pip. Progress is
# printed at each step, and uv's own lines say what it resolved, downloaded and installed.
# Bytecode is compiled at install, as pip does: where PYTHONDONTWRITEBYTECODE is set, an
# uncompiled TensorFlow would cost every grading worker start about 5 s more.
$(STAMP): pyproject.toml
	@echo "==> [1/3] Creating the environment $(VENV)/ with $(PYTHON)"
	$(PYTHON) -m venv $(VENV)
	@echo "==> [2/3] Fetching the installer uv into $(VENV)/ (pip, a few seconds)"
	$(PY) -m pip install --quiet --disable-pip-version-check --only-binary :all: uv
	@echo "==> [3/3] Installing tfexam with TensorFlow, Keras 3, tf_keras and the test tools (wheels only; about 700 MB to download on a first run)"
	$(PY) tools/uv_install.py $(VENV)/bin/uv $(PY) --only-binary :all: --compile-bytecode -e ".[test]"
	@touch $(STAMP)
	@echo "==> Ready: $$(du -sh $(VENV) | cut -f1) in $(VENV)/"

## Run the service on http://127.0.0.1:8765 (state in TFEXAM_HOME or the user data folder).
serve: $(STAMP)
	$(VENV)/bin/tfexam serve $(ARGS)

## Run the whole test suite (lint included), spread over TEST_WORKERS processes (pytest-xdist):
## most tests wait on services, sandboxes and browsers rather than compute, so there are more
## workers than cores, and an idle worker takes tests from a busy one (worksteal). At the end:
## the thirty slowest tests, the time per folder and per kind of wait, and the total against the
## budget (tests/support/timing.py).
TEST_WORKERS ?= 3
test: lint
	$(PY) -m pytest -n $(TEST_WORKERS) --dist worksteal --durations=30 $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy --strict plugin_bridge

bench: $(STAMP)
	$(PY) tests/bench/bench_startup.py
	$(PY) tests/bench/bench_grading.py
	$(PY) tests/bench/bench_events.py
	$(PY) tests/bench/bench_sandbox.py

## Classroom mode: N learners' agents x M saves against one and two Celery workers (PostgreSQL
## and Redis from Debian, started in temporary folders), against the local mode in the same run.
.PHONY: bench-classroom
bench-classroom: $(STAMP)
	$(PY) tests/bench/bench_classroom.py $(ARGS)

## The VS Code extension as a .vsix (needs Node and npm; builds offline from the npm registry's
## packages named in plugin_bridge/vscode/package-lock.json).
VSCODE_EXT := plugin_bridge/vscode
VSIX := $(VSCODE_EXT)/tfexam.vsix
.PHONY: vsix
vsix: $(VSIX)

$(VSIX): $(VSCODE_EXT)/package.json $(VSCODE_EXT)/package-lock.json $(VSCODE_EXT)/tsconfig.json $(wildcard $(VSCODE_EXT)/src/*.ts) $(VSCODE_EXT)/README.md
	cd $(VSCODE_EXT) && npm ci --no-audit --no-fund --loglevel=error
	cd $(VSCODE_EXT) && npx tsc -p .
	cd $(VSCODE_EXT) && npx vsce package --no-dependencies --allow-missing-repository --skip-license -o tfexam.vsix

## kill -9 the service twenty times during bursts of saves and gradings (the CI suite runs three).
soak: $(STAMP)
	TFEXAM_KILL_ROUNDS=$${TFEXAM_KILL_ROUNDS:-20} $(PY) -m pytest tests/sessions/test_kill9_live.py -x -q -p no:cacheprovider
