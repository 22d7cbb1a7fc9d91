"""The model forms the real exam's time-series grader accepted, and how it read a forecast.

The real grader forecast every window of the series with the learner's model and compared the
validation part with `forecast[split_time - window_size:-1, -1, 0]`: the last step of each
output. So a sequence-to-sequence model (a causal Conv1D and an LSTM with
`return_sequences=True` before the final Dense(1)), whose output is `(None, None, 1)` or
`(None, window, 1)`, was scored on its last step, and its input could be `[None, window, 1]` or
`[None, None, 1]`. A plain `(None, 1)` forecast is accepted as well. Pure functions on shapes and
prediction arrays: they run on the trusted side.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from server.grading.trusted.contract import shape_text

Shape = Sequence[int | None]


def accepted_inputs(window: int, features: int = 1) -> list[tuple[int | None, ...]]:
    return [(None, window, features), (None, None, features)]


def accepted_outputs(window: int, features: int = 1) -> list[tuple[int | None, ...]]:
    return [(None, features), (None, window, features), (None, None, features)]


def _fits(actual: Shape | None, expected: Shape) -> bool:
    """Batch size aside, each dimension is the form's: a number, or left open (None)."""
    if actual is None or len(actual) != len(expected):
        return False
    return all(a == e for a, e in zip(actual[1:], expected[1:], strict=True))


def _listing(shapes: list[tuple[int | None, ...]]) -> str:
    texts = [shape_text(s) for s in shapes]
    return ", ".join(texts[:-1]) + " or " + texts[-1]


def check(input_shape: Shape | None, output_shape: Shape | None, window: int,
          features: int = 1) -> list[str]:
    """Every way the model's shapes differ from the forms the real grader accepted."""
    problems = []
    inputs, outputs = accepted_inputs(window, features), accepted_outputs(window, features)
    if not any(_fits(input_shape, form) for form in inputs):
        problems.append(
            f"The model's input shape is {shape_text(input_shape)}; the grader feeds windows of {window} "
            f"steps, so the input must be {_listing(inputs)} (input_shape=[{window}, {features}] or "
            f"[None, {features}] in the first layer).")
    if not any(_fits(output_shape, form) for form in outputs):
        problems.append(
            f"The model's output shape is {shape_text(output_shape)}; the grader reads the forecast from "
            f"{_listing(outputs)} (the last step of a sequence, as the real exam's grader did with "
            f"forecast[split_time - window_size:-1, -1, 0]). Keep the final Dense({features}) layer.")
    return problems


def last_step(predictions: np.ndarray, count: int, features: int = 1) -> np.ndarray:
    """The forecast of each window: the last step of a sequence output, or the output itself.
    Shape (count,) for one feature, (count, features) otherwise."""
    values = np.asarray(predictions)
    if values.ndim == 3:
        values = values[:, -1, :]
    values = values.reshape(count, -1)
    if values.shape[1] != features:
        raise ValueError(f"expected {features} value(s) per forecast, got {values.shape[1]}")
    return values[:, 0] if features == 1 else values
