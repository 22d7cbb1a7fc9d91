"""The real exam's series grader accepted sequence outputs and read their last step."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from server.grading.protocol import ModelInfo
from server.grading.trusted import scorer, series_forms
from server.grading.trusted.scorer import GradingJob


def test_sequence_forms_are_accepted() -> None:
    for inputs in [(None, 30, 1), (None, None, 1)]:
        for outputs in [(None, 1), (None, 30, 1), (None, None, 1)]:
            assert series_forms.check(inputs, outputs, 30) == [], (inputs, outputs)


def test_other_forms_say_what_the_grader_feeds_and_reads() -> None:
    problems = series_forms.check((None, 30), (None, 30, 2), 30)
    assert len(problems) == 2
    assert "(None, 30, 1) or (None, None, 1)" in problems[0]
    assert "forecast[split_time - window_size:-1, -1, 0]" in problems[1]
    assert "refused" not in " ".join(problems)
    assert series_forms.check((None, 64, 1), (None, 1), 30)  # the wrong window


def test_last_step_of_a_sequence_output() -> None:
    sequence = np.arange(4 * 30).reshape(4, 30, 1).astype(float)
    assert series_forms.last_step(sequence, 4).tolist() == [29.0, 59.0, 89.0, 119.0]
    assert series_forms.last_step(np.array([[1.0], [2.0]]), 2).tolist() == [1.0, 2.0]


def _series_job() -> GradingJob:
    return GradingJob(Path("mymodel.h5"), "h5", "series", [30, 1], [1], None, "mae",
                      {"kind": "exam_mae_formula"}, Path("heldout.npz"))


def _info(inputs: tuple, outputs: tuple) -> ModelInfo:
    return ModelInfo(input_shape=list(inputs), output_shape=list(outputs), final_activation=None,
                     keras="2.15")


def test_the_contract_takes_every_form_the_real_grader_took() -> None:
    for inputs in [(None, 30, 1), (None, None, 1)]:
        for outputs in [(None, 1), (None, 30, 1), (None, None, 1)]:
            assert scorer.contract_problems(_info(inputs, outputs), _series_job()) == []


def test_a_series_refusal_claims_only_what_this_grader_could_not_do() -> None:
    """The real exam accepted sequence forecasters, so a refusal must not say it was "strict, as
    the real exam was": it says what this grader could not do, and about the real exam only how its
    grader read a forecast."""
    problems = scorer.contract_problems(_info((None, 64, 1), (None, 64, 2)), _series_job())
    assert len(problems) == 3
    assert problems[-1] == "Score 0: the grader could not feed this model the exam's windows."
    for line in problems:
        assert "strict" not in line, line
        if "real exam" in line:
            assert "as the real exam's grader did with forecast[split_time - window_size:-1, -1, 0]" \
                in line, line
