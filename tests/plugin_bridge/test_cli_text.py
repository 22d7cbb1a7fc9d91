"""The CLI's texts from the service's JSON: the one-line `time`, data availability (contract 3),
and the progress shown while a slow start prepares data."""

from __future__ import annotations

import time

import pytest

from plugin_bridge.cli import _with_progress, availability_lines
from plugin_bridge.render import render_status, time_line


def question(qid: str, state: str, score: int | None) -> dict:
    return {"id": qid, "state": state, "score": score, "message": ""}


def test_time_line_is_one_short_line() -> None:
    status = {"state": "running", "remaining_seconds": 11525.4, "total": 0, "questions": [
        question("Category1", "graded", 5), question("Category2", "graded", 4),
        question("Category3", "none", None), question("Category4", "grading", 3),
        question("Category5", "error", None)]}
    assert time_line(status) == "3:12:05 left · C1 5/5 · C2 4/5 · C3 – · C4 grading · C5 error"
    done = {**status, "state": "submitted", "total": 61.25, "passed": False}
    assert time_line(done).startswith("submitted · 61.2% · NOT PASSED · C1 5/5")


def test_a_save_that_could_not_be_recorded_is_said_on_the_lines() -> None:
    sentence = "Category2's save of mymodel.h5 at 12:03:05 UTC could not be recorded (...)."
    status = {"state": "running", "remaining_seconds": 600, "total": 0, "exam_title": "T",
              "session": "s", "deadline": "d", "project_dir": "/p", "pass_mark": 90,
              "passed": None,
              "questions": [question("Category2", "graded", 4)],
              "unrecorded_saves": [{"question": "Category2", "reason": "No space left on device",
                                    "message": sentence}]}
    assert time_line(status) == ("0:10:00 left · C2 4/5 · C2 SAVE NOT RECORDED (No space left "
                                 "on device)")
    assert f"  NOT RECORDED: {sentence}" in render_status(status).splitlines()


def test_availability_lines_name_the_data_the_places_and_the_fix() -> None:
    exams = [
        {"id": "quick", "available": True, "missing": []},
        {"id": "tf-developer", "available": False, "missing": [
            {"dataset": "mnist", "variants": ["Category2/mnist"],
             "looked_in": ["/data/mnist", "/usr/share/datasets/mnist"],
             "fix": "Set TFEXAM_DATASETS to a mirror and restart."}]},
        {"id": "old"},
    ]
    assert availability_lines(exams) == [
        "quick: data here",
        "tf-developer: data missing",
        "  missing mnist (for Category2/mnist)",
        "    looked in /data/mnist",
        "    looked in /usr/share/datasets/mnist",
        "    fix: Set TFEXAM_DATASETS to a mirror and restart.",
        "old: this service does not report data availability",
    ]


def test_a_slow_start_shows_that_it_is_working(capsys: pytest.CaptureFixture[str]) -> None:
    def slow() -> str:
        time.sleep(0.6)
        return "ready"

    assert _with_progress("Preparing smoke", slow, first_notice=0.1, every=0.2) == "ready"
    err = capsys.readouterr().err
    assert "Preparing smoke…" in err and "still working after" in err


def test_a_failure_during_the_wait_reaches_the_caller() -> None:
    def broken() -> None:
        raise ValueError("no data")

    with pytest.raises(ValueError, match="no data"):
        _with_progress("Preparing smoke", broken, first_notice=0.05, every=0.05)


def test_status_names_models_saved_where_nothing_grades_them() -> None:
    from plugin_bridge.render import render_status

    status = {"exam_title": "Smoke", "session": "s1", "state": "running",
              "remaining_seconds": 600, "deadline": "2026-12-02T04:00:00Z", "project_dir": "/p",
              "project": "missing", "questions": [question("Q1", "none", None) | {"message": "x"}],
              "misplaced": [{"path": "mymodel.h5", "should_be": "the folder of the question it "
                             "answers (Q1/ or Q2/), e.g. Q1/mymodel.h5"}],
              "total": 0.0, "pass_mark": 90.0, "passed": None}
    text = render_status(status)
    assert ("  mymodel.h5 is not graded there: move it to the folder of the question it answers "
            "(Q1/ or Q2/), e.g. Q1/mymodel.h5") in text
    assert "the project folder is missing" in text
