""""Submit and Test" always answers: each case of submit_answer gives the learner its own exact
sentence. The records are real store records; the save time is 12:03 in the learner's own time
zone, whatever the machine's zone is, so each sentence can be written out in full."""

from __future__ import annotations

import time

from server.api.submit_answer import submit_answer
from server.store.records import ResultRecord, SubmissionRecord

SEEN = time.mktime((2026, 12, 2, 12, 3, 30, 0, 0, -1))  # 12:03 local, as the IDE shows the save


def record(sub_id: int, state: str, saved_at: float = SEEN) -> SubmissionRecord:
    return SubmissionRecord(
        id=sub_id, session_id="s1", question_id="Q1", source_path="/ws/Q1/mymodel.h5",
        snapshot_path=f"/home/snap/{sub_id}.h5", sha256="ab" * 32, format="h5", size_bytes=2048,
        saved_at=saved_at, detected_at=saved_at + 0.2, trigger="button", state=state, attempts=0,
        grading_started_at=None)


def result(sub_id: int, status: str, score: int) -> ResultRecord:
    return ResultRecord(submission_id=sub_id, session_id="s1", question_id="Q1", status=status,
                        score=score, payload={"messages": []}, created_at=SEEN + 5)


def test_unchanged_and_graded_gives_the_time_and_the_score() -> None:
    answer = submit_answer(record(7, "graded"), record(7, "graded"), result(7, "graded", 4))
    assert answer["message"] == "Already graded: same file as at 12:03, 4/5."
    assert answer["unchanged"] is True and answer["score"] == 4


def test_unchanged_and_unscorable_points_at_the_card() -> None:
    answer = submit_answer(record(7, "error"), record(7, "error"), result(7, "error", 0))
    assert answer["message"] == ("Already graded: same file as at 12:03; it could not be scored "
                                 "(the reason is on the card).")
    assert answer["unchanged"] is True and answer["state"] == "error"


def test_unchanged_and_still_grading_says_so() -> None:
    for state in ("queued", "grading"):
        answer = submit_answer(record(7, state), record(7, state), None)
        assert answer["message"] == "Already being graded: same file as at 12:03.", state
        assert answer["unchanged"] is True and answer["score"] is None


def test_same_content_as_an_earlier_file_reuses_its_result() -> None:
    answer = submit_answer(record(6, "superseded"), record(7, "graded"), result(7, "graded", 3))
    assert answer["message"] == "Same content as an earlier file: its result is reused, 3/5."
    assert answer["unchanged"] is False and answer["score"] == 3


def test_a_new_file_is_queued_with_its_save_time() -> None:
    first = submit_answer(None, record(1, "queued"), None)
    assert first["message"] == "Submitted: grading the file saved at 12:03…"
    assert first["unchanged"] is False and first["submission"] == 1
    later = time.mktime((2026, 12, 2, 12, 41, 0, 0, 0, -1))
    changed = submit_answer(record(1, "graded"), record(2, "queued", saved_at=later), None)
    assert changed["message"] == "Submitted: grading the file saved at 12:41…"
    assert changed["unchanged"] is False and changed["submission"] == 2


def test_a_result_stored_after_its_record_was_read_is_told_as_graded() -> None:
    """The click read the record while grading; the worker stored the 5/5 before the result was
    read: the answer follows the result."""
    answer = submit_answer(record(7, "grading"), record(7, "grading"), result(7, "graded", 5))
    assert answer["message"] == "Already graded: same file as at 12:03, 5/5."
    assert answer["state"] == "graded" and answer["score"] == 5
