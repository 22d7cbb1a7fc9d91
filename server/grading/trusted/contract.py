"""The exam's strictness, with reasons: shapes and final activation checked before evaluating.

Runs on the trusted side, on what the child reported about the model; the predictions' own shape
is checked again when they come back, so a report that lies gains nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

from server.grading.protocol import ModelInfo


def shape_text(shape: Sequence[int | None] | None) -> str:
    if shape is None:
        return "unknown"
    inner = ", ".join("None" if d is None else str(d) for d in shape)
    return f"({inner},)" if len(shape) == 1 else f"({inner})"


def _fits(actual: Sequence[int | None] | None, expected: Sequence[int | None]) -> bool:
    if actual is None or len(actual) != len(expected):
        return False
    # A dimension the model leaves open (None) accepts the size the question feeds it.
    return all(e is None or a is None or a == e for a, e in zip(actual, expected, strict=True))


def count_problems(model: ModelInfo) -> list[str]:
    """One input and one output: the part of the contract every question shares, series included
    (whose shapes are checked against the forms the real exam accepted instead)."""
    problems = []
    if model.inputs != 1:
        problems.append(f"The model has {model.inputs} inputs; this question needs exactly one.")
    if model.outputs != 1:
        problems.append(f"The model has {model.outputs} outputs; this question needs exactly one.")
    return problems


def check(model: ModelInfo, input_shape: list[int | None], output_shape: list[int | None],
          final_activation: str | None) -> list[str]:
    """Every way the model breaks the question's contract, each as a sentence that says the fix."""
    problems = count_problems(model)
    want_in = (None, *input_shape)
    want_out = (None, *output_shape)
    if model.inputs == 1 and not _fits(model.input_shape, want_in):
        problems.append(
            f"The model's input shape is {shape_text(model.input_shape)}; this question needs "
            f"{shape_text(want_in)}. Make the first layer take input shape "
            f"{list(input_shape)} as the starter shows.")
    if model.outputs == 1 and not _fits(model.output_shape, want_out):
        units = output_shape[-1] if output_shape else "?"
        problems.append(
            f"The model's output shape is {shape_text(model.output_shape)}; this question needs "
            f"{shape_text(want_out)}. Keep the final layer as the starter shows "
            f"(a Dense layer with {units} unit{'s' if units != 1 else ''}).")
    if final_activation and model.final_activation not in (None, final_activation):
        problems.append(
            f"The final layer's activation is {model.final_activation!r}; this question needs "
            f"{final_activation!r}. Keep the final layer as the starter shows.")
    return problems
