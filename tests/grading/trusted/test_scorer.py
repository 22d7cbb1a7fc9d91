"""The trusted scorer on real models and held-out data made at test time, graded in a real sandbox:
the Result carries the metric, the score by the question's bands, and the report's diagnostics."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from server.datasets.base import write_heldout
from server.grading.trusted.local import LocalGrader
from server.grading.trusted.scorer import GradingJob
from tests.support import models

pytestmark = pytest.mark.slow

BANDS = {"kind": "bands", "higher_is_better": True, "thresholds": [0.2, 0.4, 0.6, 0.8, 0.95]}


def _job(path: Path, heldout: Path, **overrides) -> GradingJob:
    fields = {"snapshot": path, "format": path.suffix.lstrip(".") or "savedmodel",
              "task": "classification", "input_shape": [2], "output_shape": [3],
              "final_activation": "softmax", "metric": "accuracy", "scoring": BANDS,
              "heldout_path": heldout}
    fields.update(overrides)
    return GradingJob(**fields)


def line_job(tmp_path: Path) -> GradingJob:
    """y = 2x - 1 on two held-out points, and a model that is exactly that line: scores 5."""
    xs = np.asarray([[10.0], [-4.0]], dtype="float32")
    write_heldout(tmp_path / "l.npz", x=xs, y=2 * xs - 1)
    path = models.save(models.line_model(), tmp_path / "mymodel.h5")
    return _job(path, tmp_path / "l.npz", task="regression", input_shape=[1], output_shape=[1],
                final_activation=None, metric="mse",
                scoring={"kind": "bands", "higher_is_better": False,
                         "thresholds": [10, 1, 0.1, 0.01, 0.001]})


def _series_job(path: Path, heldout: Path, **overrides) -> GradingJob:
    fields = {"task": "series", "input_shape": [30, 1], "output_shape": [1],
              "final_activation": None, "metric": "mae", "scoring": {"kind": "exam_mae_formula"}}
    return _job(path, heldout, **{**fields, **overrides})


def test_series_forecast_is_scored_with_the_exam_formula(grader: LocalGrader, tmp_path: Path):
    import keras

    t = np.arange(400, dtype="float32")
    series = (0.5 + 0.4 * np.sin(t / 10)).astype("float32")
    write_heldout(tmp_path / "s.npz", series=series, split_time=np.asarray(300),
                  window=np.asarray(30))
    persistence = keras.Sequential([keras.Input((30, 1)), keras.layers.Cropping1D((29, 0)),
                                    keras.layers.Flatten(), keras.layers.Dense(1)])
    persistence.layers[-1].set_weights([np.array([[1.0]]), np.array([0.0])])  # tomorrow = today
    path = models.save(persistence, tmp_path / "mymodel.h5")
    outcome = grader.grade(_series_job(path, tmp_path / "s.npz"))
    assert outcome.status == "graded", outcome
    naive_mae = float(np.mean(np.abs(series[300:] - series[299:-1])))
    assert outcome.value == pytest.approx(naive_mae, rel=1e-4)
    assert outcome.score == 5
    diagnostics = outcome.diagnostics
    assert diagnostics["kind"] == "series" and len(diagnostics["actual"]) == 100
    assert diagnostics["forecast"][:3] == pytest.approx(series[299:302].round(5), abs=1e-4)
    assert diagnostics["naive_mae"] == pytest.approx(naive_mae, abs=1e-5)
    assert "without a model: repeating the last value has MAE" in outcome.messages[1]
    assert "forecasting the training mean has MAE" in outcome.messages[1]


def test_classification_gives_a_confusion_matrix(grader: LocalGrader, tmp_path: Path) -> None:
    x = np.asarray([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]] * 10, dtype="float32")
    y = np.asarray([0, 1, 2] * 10)
    write_heldout(tmp_path / "c.npz", x=x, y=y, class_names=np.asarray(["a", "b", "c"]))
    model = models.blobs_model()
    path = models.save(model, tmp_path / "mymodel.keras")
    outcome = grader.grade(_job(path, tmp_path / "c.npz"))
    assert outcome.status == "graded"
    matrix = np.asarray(outcome.diagnostics["confusion_matrix"])
    assert matrix.shape == (3, 3) and matrix.sum() == 30
    assert outcome.value == pytest.approx(np.trace(matrix) / 30)
    expected = np.argmax(model.predict(x, verbose=0), axis=1)  # what the model really says
    assert outcome.value == pytest.approx(float(np.mean(expected == y)))
    assert outcome.keras.startswith("Keras 3")
    assert outcome.model["input_shape"] == "(None, 2)"


def test_nan_predictions_score_zero_with_a_reason(grader: LocalGrader, tmp_path: Path) -> None:
    write_heldout(tmp_path / "r.npz", x=np.ones((4, 1), "float32"), y=np.ones((4, 1), "float32"))
    model = models.line_model()
    model.layers[0].set_weights([np.array([[np.nan]]), np.array([0.0])])
    path = models.save(model, tmp_path / "mymodel.h5")
    outcome = grader.grade(_job(path, tmp_path / "r.npz", task="regression", input_shape=[1],
                                output_shape=[1], final_activation=None, metric="mse",
                                scoring={"kind": "bands", "higher_is_better": False,
                                         "thresholds": [10, 1, 0.1, 0.01, 0.001]}))
    assert outcome.status == "evaluation_error" and outcome.score == 0
    assert "NaN" in outcome.messages[0]


def test_a_forecast_that_learned_nothing_is_warned_and_capped_only_when_strict(
        grader: LocalGrader, tmp_path: Path) -> None:
    import keras

    t = np.arange(400, dtype="float32")
    series = (0.5 + 0.05 * np.sin(t / 10)).astype("float32")  # the formula alone is generous here
    write_heldout(tmp_path / "s.npz", series=series, split_time=np.asarray(300),
                  window=np.asarray(30))
    constant = keras.Sequential([keras.Input((30, 1)), keras.layers.Flatten(),
                                 keras.layers.Dense(1)])
    constant.layers[-1].set_weights([np.zeros((30, 1)), np.array([float(series[:300].mean())])])
    path = models.save(constant, tmp_path / "mymodel.h5")
    plain = grader.grade(_series_job(path, tmp_path / "s.npz"))
    assert plain.score == 5 and plain.warnings == []
    check = {"kind": "exam_mae_formula", "no_model_check": True}
    warned = grader.grade(_series_job(path, tmp_path / "s.npz", scoring=check))
    assert warned.score == 5 and "no better than a forecast without a model" in warned.warnings[0]
    assert warned.interval is not None and warned.interval[0] <= warned.value <= warned.interval[1]
    capped = grader.grade(_series_job(path, tmp_path / "s.npz", scoring={**check, "strict": True}))
    assert capped.score == 1
    assert "the exam's formula gives 5/5" in capped.messages[0]


def test_the_final_activation_is_read_through_dropout_and_reshape(grader: LocalGrader,
                                                                   tmp_path: Path) -> None:
    import keras

    x = np.asarray([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]] * 4, dtype="float32")
    write_heldout(tmp_path / "c.npz", x=x, y=np.asarray([0, 1, 2] * 4))
    softmax_then_dropout = keras.Sequential([
        keras.Input((2,)), keras.layers.Dense(3, activation="softmax"), keras.layers.Dropout(0.2),
        keras.layers.Reshape((3,))])
    path = models.save(softmax_then_dropout, tmp_path / "mymodel.keras")
    outcome = grader.grade(_job(path, tmp_path / "c.npz"))
    assert outcome.status == "graded", outcome.messages
    assert outcome.model["final_activation"] == "softmax"
    relu_then_dropout = keras.Sequential([
        keras.Input((2,)), keras.layers.Dense(3, activation="relu"), keras.layers.Dropout(0.2)])
    path = models.save(relu_then_dropout, tmp_path / "relu.keras")
    outcome = grader.grade(_job(path, tmp_path / "c.npz"))
    assert outcome.status == "contract_error"
    assert "The final layer's activation is 'relu'" in outcome.messages[0]


def test_missing_weights_say_so(grader: LocalGrader, tmp_path: Path) -> None:
    write_heldout(tmp_path / "c.npz", x=np.ones((3, 2), "float32"), y=np.asarray([0, 1, 2]))
    weights = tmp_path / "mymodel.weights.h5"
    models.blobs_model().save_weights(weights)
    only_weights = weights.rename(tmp_path / "mymodel.h5")
    outcome = grader.grade(_job(only_weights, tmp_path / "c.npz"))
    assert outcome.status == "load_error"
    assert "holds only weights (it was written by model.save_weights(...))" in outcome.messages[0]
    assert "not an HDF5" not in outcome.messages[0]


def test_job_after_job_leaves_nothing_behind(grader: LocalGrader, tmp_path: Path) -> None:
    """A five-hour exam grades hundreds of jobs: no descriptor, process or folder may pile up."""
    import os
    import time

    job = line_job(tmp_path)

    def settled() -> tuple[int, int]:
        deadline = time.monotonic() + 120
        while grader.pool.ready_count < grader.pool.size and time.monotonic() < deadline:
            time.sleep(0.2)
        folders = len(list((grader.scratch / "sandbox").glob("sb-*")))
        return len(os.listdir("/proc/self/fd")), folders

    assert grader.grade(job).score == 5
    before = settled()
    for _ in range(3):
        assert grader.grade(job).score == 5
    assert settled() == before
