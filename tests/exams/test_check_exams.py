"""`tfexam exams --check` passes for every template in the repository."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.exams.calibration import ROOT


@pytest.mark.slow
def test_check_exams_passes(tmp_path) -> None:
    env = {**os.environ, "TFEXAM_HOME": str(tmp_path / "home"), "KERAS_HOME": str(tmp_path / "keras"),
           "TFEXAM_OFFLINE": "1"}
    done = subprocess.run([sys.executable, "-m", "server", "check-exams"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "check: ok" in done.stdout
    assert "tf-developer: manifest ok (5 questions, 300 min, pass mark 90%)" in done.stdout
    assert "quick: manifest ok (2 questions, 20 min, pass mark 90%)" in done.stdout
    assert "Category2/mnist data 'mnist': not available here" in done.stdout
    assert "Category3/rock_paper_scissors data 'photos': ok (standin" in done.stdout
    # Progress: each data set is announced before it is prepared, and the starters' import too.
    lines = done.stdout.splitlines()
    announced = [i for i, line in enumerate(lines)
                 if "] preparing 'mnist' for Category2/mnist..." in line]
    result = [i for i, line in enumerate(lines) if "Category2/mnist data 'mnist': " in line]
    assert announced and result and announced[0] < result[0], done.stdout
    importing = next(i for i, line in enumerate(lines) if line.startswith("importing the "))
    assert importing < next(i for i, line in enumerate(lines) if line.startswith("starters import: ok"))
