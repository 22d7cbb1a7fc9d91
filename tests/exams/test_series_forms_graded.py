"""Criterion: the sequence forms the real exam's grader accepted are graded on their last step
(`forecast[split_time - window_size:-1, -1, 0]`), and criterion: the same file always gets the same
score, value and interval."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.exams.calibration import Trainer, grade, record
from tests.exams.conftest import need_mirror


def sequence_model(input_steps: int | None, return_sequences: bool):
    import keras

    keras.utils.set_random_seed(7)
    return keras.Sequential([
        keras.Input((input_steps, 1)),
        keras.layers.Conv1D(8, 5, padding="causal", activation="relu"),
        keras.layers.LSTM(8, return_sequences=return_sequences),
        keras.layers.Dense(1),
    ])


def real_graders_mae(model, series: np.ndarray, split_time: int, window: int) -> float:
    """The real exam's grader, as the course wrote model_forecast, on this model."""
    windows = np.stack([series[i:i + window] for i in range(len(series) - window + 1)])[..., None]
    forecast = model.predict(windows, verbose=0)
    forecast = forecast[split_time - window:-1, -1, 0] if forecast.ndim == 3 else \
        forecast[split_time - window:-1, 0]
    return float(np.mean(np.abs(forecast - series[split_time:])))


FORMS = [(30, True), (None, True), (30, False), (None, False)]


@pytest.mark.slow
@pytest.mark.parametrize(("steps", "sequences"), FORMS,
                         ids=[f"in{s or 'None'}-{'seq' if q else 'last'}" for s, q in FORMS])
def test_sequence_forms_score_their_last_step(trainer: Trainer, tmp_path: Path, steps: int | None,
                                              sequences: bool) -> None:
    need_mirror()
    prepared = trainer.prepare("tf-developer", "sunspots")
    model = sequence_model(steps, sequences)
    path = tmp_path / "mymodel.h5"
    model.save(path)
    with np.load(prepared.heldout) as data:
        series = data["series"].astype("float32")
        split_time, window = int(data["split_time"]), int(data["window"])
    outcome = grade(prepared.variant, path, prepared.heldout)
    record(f"series-form/{steps}/{sequences}", score=outcome["score"], value=outcome.get("value"),
           output=outcome.get("model", {}).get("output_shape"))
    assert outcome["status"] == "graded", outcome["messages"]
    assert outcome["value"] == pytest.approx(real_graders_mae(model, series, split_time, window), abs=1e-5)
    assert not any("real exam" in m and "refus" in m for m in outcome["messages"])


@pytest.mark.slow
def test_same_file_same_score_value_and_interval(trainer: Trainer, tmp_path: Path) -> None:
    import keras

    keras.utils.set_random_seed(1)
    prepared = trainer.prepare("tf-developer", "fashion_mnist")
    model = keras.Sequential([keras.Input((28, 28)), keras.layers.Flatten(),
                              keras.layers.Dense(10, activation="softmax")])
    model.save(tmp_path / "mymodel.h5")
    runs = [grade(prepared.variant, tmp_path / "mymodel.h5", prepared.heldout) for _ in range(3)]
    keys = ("status", "score", "value", "interval", "borderline")
    assert all({k: r.get(k) for k in keys} == {k: runs[0].get(k) for k in keys} for r in runs)
    low, high = runs[0]["interval"]
    assert low <= runs[0]["value"] <= high
    need_mirror()
    series = trainer.prepare("tf-developer", "sunspots")
    sequence_model(None, True).save(tmp_path / "series.h5")
    again = [grade(series.variant, tmp_path / "series.h5", series.heldout) for _ in range(3)]
    assert all({k: r.get(k) for k in keys} == {k: again[0].get(k) for k in keys} for r in again)
    assert again[0]["interval"][0] <= again[0]["value"] <= again[0]["interval"][1]
