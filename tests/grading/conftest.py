"""Fixtures of the grading tests: one warm local grader (real sandboxes) per test module."""

from __future__ import annotations

import pytest

from server.grading.local import LocalGrader


@pytest.fixture(scope="module")
def grader(tmp_path_factory: pytest.TempPathFactory, keras_home):
    local = LocalGrader(tmp_path_factory.mktemp("grader"), warm=2)
    yield local
    local.close()
