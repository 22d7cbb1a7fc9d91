# The two commands of the README. Each creates the virtual environment on first use.
VENV ?= .venv
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
STAMP := $(VENV)/.installed-stamp
TEST_STAMP := $(VENV)/.test-tools-stamp
PYTHON ?= python3
LOCK := requirements/service.txt
TEST_LOCK := requirements/test.txt

.PHONY: serve test lint bench soak lock test-pythons

# Set-up with uv (wheels only, installed in parallel) from the lock files in requirements/ (every
# package pinned, each file checked against its hashes; tools/lock.py says how they are made), so
# the grader's TensorFlow and Keras are the ones the calibration tests passed with. uv itself is
# pinned too (requirements/uv.txt, fetched by pip). tools/uv_install.py passes pip's own index
# settings to uv. Learners get the service, the grader and the exam's environment; the test tools
# come only with `make test`. Bytecode is compiled at install, as pip does: where
# PYTHONDONTWRITEBYTECODE is set, an uncompiled TensorFlow would cost every grading worker start
# about 5 s more.
$(STAMP): $(LOCK) requirements/uv.txt pyproject.toml
	@echo "==> [1/3] Creating the environment $(VENV)/ with $(PYTHON)"
	$(PYTHON) -m venv $(VENV)
	@echo "==> [2/3] Fetching the installer uv into $(VENV)/ (pip, pinned, a few seconds)"
	$(PY) -m pip install --quiet --disable-pip-version-check --only-binary :all: --require-hashes -r requirements/uv.txt
	@echo "==> [3/3] Installing tfexam with TensorFlow, Keras 3, tf_keras and the exam's packages from $(LOCK) (wheels only; about 700 MB to download on a first run)"
	$(PY) tools/uv_install.py $(UV) $(PY) --only-binary :all: --compile-bytecode --no-deps -r $(LOCK) -e .
	@touch $(STAMP)
	@echo "==> Ready: $$(du -sh $(VENV) | cut -f1) in $(VENV)/"

# The test tools (pytest, playwright, ruff, mypy...), at the versions of $(TEST_LOCK).
$(TEST_STAMP): $(STAMP) $(TEST_LOCK)
	@echo "==> Adding the test tools from $(TEST_LOCK)"
	$(PY) tools/uv_install.py $(UV) $(PY) --only-binary :all: --compile-bytecode --no-deps -r $(TEST_LOCK)
	@touch $(TEST_STAMP)

## Pin every package again from pyproject.toml (PyPI; keeps the pins already there). An upgrade
## is deliberate: make lock UPGRADE="--upgrade-package tensorflow", then make test.
lock: $(STAMP)
	$(PY) tools/lock.py $(UV) $(UPGRADE)

## Run the service on http://127.0.0.1:8765 (state in TFEXAM_HOME or the user data folder).
serve: $(STAMP)
	$(VENV)/bin/tfexam serve $(ARGS)

## Run the whole test suite (lint included), spread over TEST_WORKERS processes (pytest-xdist):
## most tests wait on services, sandboxes and browsers rather than compute, so there are more
## workers than cores, and an idle worker takes tests from a busy one (worksteal). At the end:
## the thirty slowest tests, the time per folder and per kind of wait, and the total against the
## budget (tests/support/timing.py).
TEST_WORKERS ?= 3
test: lint test-pythons
	$(PY) -m pytest -n $(TEST_WORKERS) --dist worksteal --durations=30 $(PYTEST_ARGS)

lint: $(TEST_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy --strict plugin_bridge server/grading

bench: $(TEST_STAMP)
	$(PY) tests/bench/bench_startup.py
	$(PY) tests/bench/bench_grading.py
	$(PY) tests/bench/bench_events.py
	$(PY) tests/bench/bench_sandbox.py

## The non-TensorFlow unit tests, and a start of the service, on the oldest and newest Python the
## project supports (light environments: requirements/light.txt, no TensorFlow; tools/test_pythons.py).
PYTHONS ?= 3.10 3.13
test-pythons: $(STAMP)
	$(PY) tools/test_pythons.py $(UV) $(PYTHONS)

## The VS Code extension. The built .vsix is shipped in the repository, so that `make serve`
## alone can hand it over on the exam page (no Node needed). `make vsix` rebuilds it where Node 20
## and npm exist (offline from the npm registry's packages in package-lock.json) and fails if the
## rebuilt one holds other files than the shipped one (a zip carries timestamps, so the unpacked
## contents are compared: tools/vsix_same.py); CI runs it. After changing the extension:
## `make vsix-update` rebuilds it and ships the result.
VSCODE_EXT := plugin_bridge/vscode
VSIX := $(VSCODE_EXT)/tfexam.vsix
BUILT_VSIX := build/vsix/tfexam.vsix
.PHONY: vsix vsix-update
vsix: $(BUILT_VSIX)
	$(PYTHON) tools/vsix_same.py $(VSIX) $(BUILT_VSIX)

vsix-update: $(BUILT_VSIX)
	cp $(BUILT_VSIX) $(VSIX)

$(BUILT_VSIX): $(VSCODE_EXT)/package.json $(VSCODE_EXT)/package-lock.json $(VSCODE_EXT)/tsconfig.json $(VSCODE_EXT)/.vscodeignore $(wildcard $(VSCODE_EXT)/src/*.ts) $(wildcard $(VSCODE_EXT)/media/*) $(VSCODE_EXT)/README.md
	mkdir -p $(dir $(BUILT_VSIX))
	cd $(VSCODE_EXT) && npm ci --no-audit --no-fund --loglevel=error
	cd $(VSCODE_EXT) && rm -rf out && npx tsc -p .
	cd $(VSCODE_EXT) && npx vsce package --no-dependencies --allow-missing-repository --skip-license -o $(abspath $(BUILT_VSIX))

## kill -9 the service twenty times during bursts of saves and gradings (the CI suite runs three).
soak: $(TEST_STAMP)
	TFEXAM_KILL_ROUNDS=$${TFEXAM_KILL_ROUNDS:-20} $(PY) -m pytest tests/sessions/test_kill9_live.py -x -q -p no:cacheprovider
