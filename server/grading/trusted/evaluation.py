"""Score predictions against held-out labels, one function per task, returning the metric value
and the diagnostics the report draws (confusion matrix, forecast against actual).

Trusted side: these run in the service, never in the sandbox, and import no TensorFlow. They get
the model's predictions (or, for a series, a `forecast` function that asks the sandbox one window
at a time) and the held-out arrays, labels included.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from server.grading.trusted import series_forms
from server.grading.trusted.margin import Margin, accuracy_margin, error_margin

MAX_SERIES_POINTS = 600


@dataclass
class Evaluation:
    metric: str
    value: float
    extra: dict[str, float] = field(default_factory=dict)
    diagnostics: dict[str, Any] = field(default_factory=dict)
    messages: list[str] = field(default_factory=list)
    interval: Margin | None = None  # 95 % interval of the metric over the held-out set


class EvaluationError(Exception):
    """The model ran but its predictions cannot be scored (NaN, wrong size)."""


Forecast = Callable[[np.ndarray], np.ndarray]


def finite(predictions: np.ndarray, count: int) -> np.ndarray:
    """The predictions as float64, one row per example, or the sentence that says what is wrong."""
    predictions = np.asarray(predictions, dtype="float64")
    if predictions.ndim == 0 or len(predictions) != count:
        raise EvaluationError(
            f"The model gave {0 if predictions.ndim == 0 else len(predictions)} predictions for "
            f"{count} held-out examples: it must give one output per input. Keep the final layer "
            "as the starter shows and submit again.")
    if not np.all(np.isfinite(predictions)):
        raise EvaluationError(
            "The model predicts NaN or infinite values on the held-out data: check the data "
            "scaling and the learning rate (the loss probably diverged), retrain and submit again."
        )
    return predictions


def regression(predictions: np.ndarray, data: dict[str, np.ndarray], metric: str) -> Evaluation:
    x, y = data["x"], data["y"].astype("float64")
    predicted = finite(predictions, len(y))
    if predicted.size != y.size:
        raise EvaluationError(
            f"The model gives {predicted.size // max(1, len(y))} values per example; this question "
            f"needs {y.size // max(1, len(y))}. Keep the final layer as the starter shows.")
    predicted = predicted.reshape(y.shape)
    errors = predicted - y
    mse, mae = float(np.mean(errors**2)), float(np.mean(np.abs(errors)))
    value = {"mse": mse, "mae": mae}[metric]
    rows = [
        {"x": float(np.ravel(xi)[0]), "expected": float(np.ravel(yi)[0]),
         "predicted": float(np.ravel(pi)[0])}
        for xi, yi, pi in list(zip(x, y, predicted, strict=True))[:20]
    ]
    return Evaluation(metric, value, {"mse": mse, "mae": mae}, {"kind": "regression",
                                                                "points": rows})


def classification(probabilities: np.ndarray, data: dict[str, np.ndarray], metric: str
                   ) -> Evaluation:
    x, y = data["x"], data["y"].astype("int64")
    probabilities = finite(probabilities, len(y))
    flat = probabilities.reshape(len(x), -1)
    if flat.shape[1] == 1:
        predicted = (flat[:, 0] > 0.5).astype("int64")
        classes = 2
    else:
        predicted = flat.argmax(axis=1)
        classes = flat.shape[1]
    names = [str(n) for n in data["class_names"]] if "class_names" in data else [
        str(i) for i in range(classes)]
    classes = max(classes, len(names))
    matrix = np.zeros((classes, classes), dtype="int64")
    np.add.at(matrix, (y, predicted), 1)
    accuracy = float(np.mean(predicted == y))
    recall = [float(matrix[i, i] / matrix[i].sum()) if matrix[i].sum() else None
              for i in range(classes)]
    return Evaluation(
        metric,
        accuracy,
        {"accuracy": accuracy},
        {"kind": "classification", "class_names": names, "confusion_matrix": matrix.tolist(),
         "recall": recall, "examples": int(len(y))},
        interval=accuracy_margin(predicted, y),
    )


def series(forecast_windows: Forecast, data: dict[str, np.ndarray], metric: str) -> Evaluation:
    """The exam's way: forecast every window that ends before a validation step and compare
    each forecast with the value that followed (MAE on the normalised series).

    `forecast_windows` hands the windows to the sandbox in order, one at a time, each only after
    the previous forecast came back, so no window is ever seen with the value it must predict."""
    values = data["series"].astype("float32")
    split_time, window = int(data["split_time"]), int(data["window"])
    starts = np.arange(split_time - window, len(values) - window)
    windows = np.stack([values[s:s + window] for s in starts])[..., np.newaxis]
    # The real grader's forecast[split_time - window_size:-1, -1, 0]: the last step of each output
    # (a sequence-to-sequence model's (None, None, 1) or (None, window, 1), or a plain (None, 1)).
    outputs = finite(forecast_windows(windows), len(starts))
    try:
        forecast = series_forms.last_step(outputs, len(starts))
    except ValueError as why:
        raise EvaluationError(
            f"The model's forecasts have shape {tuple(outputs.shape[1:])} per window ({why}): keep the "
            "final Dense(1) layer so that each window gets one value (or a sequence of one value "
            "per step) and submit again.") from why
    actual = values[split_time:].astype("float64")
    if len(forecast) != len(actual):
        raise EvaluationError(
            f"The model gave {len(forecast)} forecasts for {len(actual)} validation steps."
        )
    mae = float(np.mean(np.abs(forecast - actual)))
    mse = float(np.mean((forecast - actual) ** 2))
    # What a forecast with no model at all gets: the yardstick a score should be read against.
    naive_mae = float(np.mean(np.abs(values[split_time - 1:-1] - actual)))
    constant_mae = float(np.mean(np.abs(float(np.mean(values[:split_time])) - actual)))
    step = max(1, len(actual) // MAX_SERIES_POINTS)
    diagnostics = {
        "kind": "series",
        "split_time": split_time,
        "window": window,
        "time": list(range(split_time, len(values), step)),
        "actual": actual[::step].round(5).tolist(),
        "forecast": forecast[::step].round(5).tolist(),
        "naive_mae": round(naive_mae, 5),
        "constant_mae": round(constant_mae, 5),
    }
    messages = [f"For comparison, without a model: repeating the last value has MAE {naive_mae:.4g} "
                f"(this model's error is {mae / naive_mae:.0%} of that), forecasting the training mean "
                f"has MAE {constant_mae:.4g}."] if naive_mae else []
    metrics = {"mae": mae, "mse": mse, "naive_mae": naive_mae, "constant_mae": constant_mae}
    return Evaluation(metric, metrics[metric], metrics, diagnostics, messages,
                      interval=error_margin(forecast, actual, metric))


# The array tasks, by name; a series is graded by `series`, which takes a forecast function.
TASKS = {"regression": regression, "classification": classification}
