"""Fixtures of the grading tests: one warm local grader (real sandboxes) per test module, and a
fresh exam session on the module's shared live service per test."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.grading.trusted.local import LocalGrader
from tests.support.live_server import LiveServer


@pytest.fixture(scope="module")
def grader(tmp_path_factory: pytest.TempPathFactory, keras_home):
    local = LocalGrader(tmp_path_factory.mktemp("grader"), warm=2)
    yield local
    local.close()


@pytest.fixture
def exam(shared_server: LiveServer, tmp_path: Path) -> tuple[str, Path]:
    """A session of its own on the shared service: (session id, project folder)."""
    started = shared_server.start_session(tmp_path / "ws", minutes=30)
    return started["session"], Path(started["project_dir"])
