"""Criterion: sessions run in the real exam's Keras 2 by default and in Keras 3 when chosen, and
the exam-era scripts learners bring score. Each idiom is a whole script run as `python x.py` in a
prepared question folder with the session's environment (`learner_env`), then graded.

Cost: every reference is trained fully in the default mode by test_calibration; here each runs
once more in Keras 3 with one epoch (a quick variant: it must run and be graded, not score 5).
The idioms use small data and one to a few epochs.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.exams.calibration import Trainer, grade, record
from tests.exams.conftest import need_mirror
from tests.exams.test_calibration import OFFLINE_VARIANTS

IDIOMS_DIR = Path(__file__).resolve().parent / "idioms"

# (script, variant whose prepared folder and grader it uses, needs the mirror)
IDIOMS = [
    ("predict_list", "line_2x_minus_1", False),
    ("predict_array", "line_2x_minus_1", False),
    ("metrics_string_callback", "fashion_mnist", False),
    ("checkpoint_ckpt", "fashion_mnist", False),
    ("image_data_generator", "horses_or_humans", False),
    ("tokenizer_pad_sequences", "sarcasm", True),
    ("windowed_dataset", "sunspots", True),
]
# Exam-era idioms that Keras 3 no longer runs, with the sentence it fails with: the reason the
# session default is Keras 2. Anything else must run and score in both modes.
KERAS3_REFUSES = {
    "predict_list": "Unrecognized data type",
    "metrics_string_callback": "Expected `metrics` argument to be a list",
    "checkpoint_ckpt": "must end in `.weights.h5`",
}


def run_script(trainer: Trainer, variant_id: str, script: str, keras: str) -> subprocess.CompletedProcess:
    return trainer.launch("tf-developer", variant_id, IDIOMS_DIR / f"{script}.py",
                          f"idiom_{script}_k{keras}", keras, timeout=600)


@pytest.mark.slow
@pytest.mark.parametrize("keras", ["2", "3"])
@pytest.mark.parametrize(("script", "variant_id", "mirror"), IDIOMS, ids=[i[0] for i in IDIOMS])
def test_exam_era_idiom(trainer: Trainer, tmp_path: Path, script: str, variant_id: str, mirror: bool,
                        keras: str) -> None:
    if mirror:
        need_mirror()
    done = run_script(trainer, variant_id, script, keras)
    prepared = trainer.prepare("tf-developer", variant_id)
    if keras == "3" and script in KERAS3_REFUSES:
        assert done.returncode != 0, "Keras 3 now runs this idiom: drop it from KERAS3_REFUSES"
        assert KERAS3_REFUSES[script] in done.stderr, done.stderr[-2000:]
        record(f"idiom/{script}/keras{keras}", refused=KERAS3_REFUSES[script])
        return
    assert done.returncode == 0, done.stderr[-3000:]
    model = prepared.folder / prepared.question.model_file
    kept = tmp_path / model.name
    model.replace(kept)
    outcome = grade(prepared.variant, kept, prepared.heldout)
    record(f"idiom/{script}/keras{keras}", score=outcome["score"], value=outcome.get("value"))
    assert outcome["status"] == "graded", outcome["messages"]


def one_epoch(script: str) -> str:
    return re.sub(r"epochs=\d+", "epochs=1", script)


@pytest.mark.slow
@pytest.mark.parametrize(("exam_id", "variant_id", "mirror"), OFFLINE_VARIANTS,
                         ids=[v for _, v, _ in OFFLINE_VARIANTS])
def test_reference_runs_in_keras_3(trainer: Trainer, exam_id: str, variant_id: str, mirror: bool) -> None:
    """The starter's fixed blocks and each reference's code run in Keras 3 too (one epoch)."""
    if mirror:
        need_mirror()
    ran = trainer.run_reference(exam_id, variant_id, variant_id, "reference-keras3-quick", keras="3",
                                edit=one_epoch)
    prepared = trainer.prepare(exam_id, variant_id)
    outcome = grade(prepared.variant, ran.model, prepared.heldout)
    record(f"{exam_id}/{variant_id}/reference-keras3-quick", score=outcome["score"],
           value=outcome.get("value"))
    assert outcome["status"] == "graded", outcome["messages"]
