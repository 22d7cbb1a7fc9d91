"""Exam tests never download: the resolver is told so, and data comes from the mirror, Debian's
Fashion-MNIST and generated sets. One `Trainer` per run trains each reference once."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.exams.calibration import Trainer
from tests.support.run_cache import RunCache, run_folder

os.environ["TFEXAM_OFFLINE"] = "1"


@pytest.fixture(scope="session")
def trainer(tmp_path_factory: pytest.TempPathFactory, keras_home: Path) -> Trainer:
    return Trainer(tmp_path_factory.mktemp("calibration"), keras_home,
                   RunCache(run_folder(tmp_path_factory) / "trained"))


def need_mirror() -> None:
    if not os.environ.get("TFEXAM_DATASETS"):
        pytest.skip("TFEXAM_DATASETS is unset: the dataset mirror is needed")
