"""Calibration, proved: each variant that can be drawn offline has a reference solution (under
tests/exams/reference/, never in a learner's folder) that scores 5/5 and trains in at most ten
minutes on this machine, while an untrained model of the right shape scores at most 1."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.exams.calibration import REFERENCE, TRAIN_LIMIT_SECONDS, Trainer, find, grade, record
from tests.exams.conftest import need_mirror

# (exam, variant, needs the mirror)
OFFLINE_VARIANTS = [
    ("tf-developer", "line_2x_minus_1", False),
    ("tf-developer", "line_4x_minus_3", False),
    ("tf-developer", "line_x_plus_1", False),
    ("tf-developer", "fashion_mnist", False),
    ("tf-developer", "horses_or_humans", False),
    ("tf-developer", "rock_paper_scissors", False),
    ("tf-developer", "sarcasm", True),
    ("tf-developer", "bbc_news", True),
    ("tf-developer", "sunspots", True),
    ("tf-developer", "daily_min_temperatures", True),
]


def untrained_model(variant, path: Path) -> Path:
    """The laziest model that keeps the contract: Flatten into the final layer with every weight
    zero, so it answers a constant (0, or equal class probabilities) whatever the input. Random
    initial weights would make the figure a matter of luck; a constant is the honest floor."""
    import keras

    layers = [keras.Input(shape=tuple(variant.input_shape)), keras.layers.Flatten()]
    layers.append(keras.layers.Dense(variant.output_shape[-1], activation=variant.final_activation,
                                     kernel_initializer="zeros"))
    model = keras.Sequential(layers)
    model.save(path)
    return path


@pytest.mark.slow
@pytest.mark.parametrize(("exam_id", "variant_id", "mirror"), OFFLINE_VARIANTS,
                         ids=[v for _, v, _ in OFFLINE_VARIANTS])
def test_reference_scores_five_within_ten_minutes(trainer: Trainer, exam_id: str, variant_id: str,
                                                  mirror: bool) -> None:
    if mirror:
        need_mirror()
    trained = trainer.run_reference(exam_id, variant_id, variant_id, "reference")
    prepared = trainer.prepare(exam_id, variant_id)
    outcome = grade(prepared.variant, trained.model, prepared.heldout)
    record(f"{exam_id}/{variant_id}/reference", seconds=round(trained.seconds, 1),
           score=outcome["score"], value=outcome.get("value"), interval=outcome.get("interval"),
           borderline=outcome.get("borderline"), warnings=len(outcome.get("warnings") or []))
    assert outcome["status"] == "graded", outcome["messages"]
    assert outcome["score"] == 5, (outcome["messages"], trained.output)
    assert trained.seconds <= TRAIN_LIMIT_SECONDS


@pytest.mark.slow
@pytest.mark.parametrize(("exam_id", "variant_id", "mirror"), OFFLINE_VARIANTS,
                         ids=[v for _, v, _ in OFFLINE_VARIANTS])
def test_untrained_model_scores_at_most_one(trainer: Trainer, tmp_path: Path, exam_id: str,
                                            variant_id: str, mirror: bool) -> None:
    if mirror:
        need_mirror()
    prepared = trainer.prepare(exam_id, variant_id)
    model = untrained_model(prepared.variant, tmp_path / "untrained.h5")
    outcome = grade(prepared.variant, model, prepared.heldout)
    record(f"{exam_id}/{variant_id}/untrained", score=outcome["score"], value=outcome.get("value"))
    assert outcome["status"] == "graded", outcome["messages"]
    assert outcome["score"] <= 1


@pytest.mark.slow
def test_dense_only_network_cannot_pass_the_photo_stand_in(trainer: Trainer) -> None:
    """The stand-in must teach the lesson of the photo question: convolutions, not pixels."""
    exam_id, variant_id = "tf-developer", "rock_paper_scissors"
    prepared = trainer.prepare(exam_id, variant_id)
    assert prepared.provenance.source == "standin"
    dense = trainer.run_reference(exam_id, variant_id, "rock_paper_scissors_dense_only", "dense")
    outcome = grade(prepared.variant, dense.model, prepared.heldout)
    record(f"{exam_id}/{variant_id}/dense-only", seconds=round(dense.seconds, 1),
           score=outcome["score"], value=outcome.get("value"))
    assert outcome["status"] == "graded", outcome["messages"]
    assert outcome["score"] <= 3
    cnn = trainer.run_reference(exam_id, variant_id, variant_id, "reference")
    assert grade(prepared.variant, cnn.model, prepared.heldout)["score"] == 5


def test_every_offline_variant_has_a_reference() -> None:
    for exam_id, variant_id, _ in OFFLINE_VARIANTS:
        find(exam_id, variant_id)
        assert (REFERENCE / f"{variant_id}.py").is_file(), variant_id


QUICK = [("line_2x_minus_1", "line_2x_minus_1"), ("fashion_mnist_small", "fashion_mnist")]


@pytest.mark.slow
@pytest.mark.parametrize(("quick_variant", "reference"), QUICK, ids=[q for q, _ in QUICK])
def test_quick_exam_is_calibrated_by_the_same_references(trainer: Trainer, tmp_path: Path,
                                                         quick_variant: str, reference: str) -> None:
    """The quick exam's questions share data and fixed blocks with tf-developer's, so the same
    trained reference (not trained again) must score 5 on them, and the constant model at most 1."""
    from tests.exams.test_starters import fixed_blocks

    quick = trainer.prepare("quick", quick_variant)
    full = trainer.prepare("tf-developer", reference)
    assert fixed_blocks(quick.folder / "starter.py") == fixed_blocks(full.folder / "starter.py")
    trained = trainer.run_reference("tf-developer", reference, reference, "reference")
    outcome = grade(quick.variant, trained.model, quick.heldout)
    record(f"quick/{quick_variant}/reference", score=outcome["score"], value=outcome.get("value"))
    assert outcome["score"] == 5, outcome["messages"]
    floor = grade(quick.variant, untrained_model(quick.variant, tmp_path / "untrained.h5"), quick.heldout)
    assert floor["score"] <= 1


SERIES = [v for v in OFFLINE_VARIANTS if v[1] in ("sunspots", "daily_min_temperatures")]


@pytest.mark.slow
@pytest.mark.parametrize(("exam_id", "variant_id", "mirror"), SERIES, ids=[v for _, v, _ in SERIES])
def test_no_model_forecasts_are_warned_and_capped_only_when_strict(
        trainer: Trainer, tmp_path: Path, exam_id: str, variant_id: str, mirror: bool) -> None:
    """The exam's MAE formula is generous (the constant training mean scores 5/5 on sunspots by it
    alone). By default such a forecast keeps the formula's score and gets a warning, as the real
    exam would have scored it; with the exam's `strict` option it scores at most 1. The same holds
    for randomly initialised, untrained networks; the trained reference gets no warning."""
    import keras
    import numpy as np

    need_mirror()
    prepared = trainer.prepare(exam_id, variant_id)
    strict = prepared.variant.model_copy(update={
        "scoring": prepared.variant.scoring.model_copy(update={"strict": True})})
    with np.load(prepared.heldout) as data:
        mean = float(data["series"][: int(data["split_time"])].mean())
    shape = tuple(prepared.variant.input_shape)
    constant = keras.Sequential([
        keras.Input(shape), keras.layers.Flatten(),
        keras.layers.Dense(1, kernel_initializer="zeros",
                           bias_initializer=keras.initializers.Constant(mean))])
    constant.save(tmp_path / "constant.h5")
    models = {"constant-mean": tmp_path / "constant.h5"}
    for seed in range(3):
        keras.utils.set_random_seed(seed)
        untrained = keras.Sequential([keras.Input(shape), keras.layers.Flatten(),
                                      keras.layers.Dense(16, activation="relu"), keras.layers.Dense(1)])
        untrained.save(tmp_path / f"random{seed}.h5")
        models[f"random-init-{seed}"] = tmp_path / f"random{seed}.h5"
    for name, path in models.items():
        outcome = grade(prepared.variant, path, prepared.heldout)
        capped = grade(strict, path, prepared.heldout)
        record(f"{exam_id}/{variant_id}/{name}", score=outcome["score"], strict=capped["score"],
               value=outcome.get("value"))
        assert outcome["status"] == "graded", outcome["messages"]
        assert outcome["warnings"], (name, outcome)
        assert "no better than a forecast without a model" in outcome["warnings"][0]
        assert capped["score"] <= 1, (name, capped["messages"])
        assert outcome["score"] >= capped["score"]
    reference = trainer.run_reference(exam_id, variant_id, variant_id, "reference")
    assert not grade(prepared.variant, reference.model, prepared.heldout).get("warnings")
