"""What "Submit and Test" answers, in one sentence, whatever happened.

The real exam's button was silent for a file it had already seen; a learner could not tell a
stuck upload from a finished one. So the answer always says what the click did: a new file is
queued, or the same file was already graded (with the time it was saved and its score), or it is
still being graded.
"""

from __future__ import annotations

import time
from typing import Any

from server.clock import iso
from server.store.records import ResultRecord, SubmissionRecord
from server.vocabulary import ResultStatus, SubmissionState

FINISHED = ("graded", "error")


def clock_time(epoch: float) -> str:
    """The learner's local time of day, as their IDE shows the save."""
    return time.strftime("%H:%M", time.localtime(epoch))


def submit_answer(before: SubmissionRecord | None, sub: SubmissionRecord,
                  result: ResultRecord | None) -> dict[str, Any]:
    """`before` is the question's latest submission before the click; `sub` what the click gave.
    Times are when tfexam saw the save, in the learner's local time."""
    # The intake hands back the very same record when the content is unchanged (graded or still
    # on its way); a new record with the same content is a re-grade or a reused verdict.
    unchanged = before is not None and before.id == sub.id
    seen = sub.saved_at
    score = result.score if result is not None else None
    # The result's own status: `sub` may have been read just before its result was stored.
    graded = result is not None and result.status == ResultStatus.GRADED
    state = sub.state if result is None else (
        SubmissionState.GRADED if graded else SubmissionState.ERROR)
    if unchanged and graded:
        message = f"Already graded: same file as at {clock_time(seen)}, {score}/5."
    elif unchanged and result is not None:
        message = (f"Already graded: same file as at {clock_time(seen)}; it could not be scored "
                   "(the reason is on the card).")
    elif unchanged:
        message = f"Already being graded: same file as at {clock_time(seen)}."
    elif result is not None:
        message = (f"Same content as an earlier file: its result is reused, "
                   f"{score if score is not None else 'no score'}/5.")
    else:
        message = f"Submitted: grading the file saved at {clock_time(sub.saved_at)}…"
    return {"submission": sub.id, "state": str(state), "question": sub.question_id,
            "sha256": sub.sha256, "unchanged": unchanged, "score": score,
            "saved_at": iso(seen), "message": message}
