"""Intake tests share one in-process service: a real store and watcher, no grading worker, a
manual clock, and a 16 MB model size limit so that "too large" is cheap to make."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from server.clock import ManualClock
from server.config import Settings
from server.services import Services


@pytest.fixture
def services(tmp_path: Path):
    built = Services(Settings.from_env(home=tmp_path / "home", start_worker=False,
                                       model_size_limit_mb=16), ManualClock())
    yield built
    built.db.close()


def small_keras(path: Path) -> Path:
    """A few-byte .keras archive: enough for intake to take a save, nothing a grader could load."""
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("config.json", b"{}")
        archive.writestr("model.weights.h5", b"weights")
    return path
