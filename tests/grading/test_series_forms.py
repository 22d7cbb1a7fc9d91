"""The real exam's series grader accepted sequence outputs and read their last step."""

from __future__ import annotations

import numpy as np

from server.grading import series_forms


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
