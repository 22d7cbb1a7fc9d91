"""What a session looks like right now: per question state and score, the weighted total, pass.

One function builds it for the API, the CLI, the pages and the report, so they never disagree.
The counted model of a question is its latest submission saved before the cutoff, as in the real
exam, where the last "Submit and Test" of a category counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from server.clock import iso
from server.grading.trusted.scoring import describe_bands
from server.grading.trusted.supervisor import current_isolation
from server.sessions.titles import title_for_length
from server.store import Store
from server.store.records import QuestionRecord, ResultRecord, SessionRecord, SubmissionRecord
from server.vocabulary import PENDING_STATES, ProjectState, SessionState, SubmissionState
from server.watch.placement import find_misplaced

WAITING_MESSAGE = "A model file is being saved; it is graded once the file is complete."
QUEUED_MESSAGE = "Queued for grading."
GRADING_MESSAGE = "Grading…"
NONE_MESSAGE = "No model saved yet: this question scores 0 until you save one."
NONE_IN_TIME_MESSAGE = "No model was saved in time: this question scores 0."


@dataclass(frozen=True)
class QuestionView:
    record: QuestionRecord
    state: str
    score: int | None
    message: str
    counted: SubmissionRecord | None
    counted_result: ResultRecord | None
    latest: SubmissionRecord | None
    submissions: list[SubmissionRecord]
    pending_in_time: bool

    @property
    def margin_facts(self) -> dict[str, Any]:
        """The counted result's warnings, 95 % interval and borderline flag (contract 4, issue
        10), read here once for the status and the report alike."""
        payload = self.counted_result.payload if self.counted_result else {}
        return {"warnings": list(payload.get("warnings") or []),
                "interval": payload.get("interval"),
                "borderline": bool(payload.get("borderline"))}


def _question_view(
    session: SessionRecord,
    question: QuestionRecord,
    submissions: list[SubmissionRecord],
    results: dict[int, ResultRecord],
) -> QuestionView:
    live = [s for s in submissions if s.state != SubmissionState.SUPERSEDED]
    latest = live[-1] if live else None
    in_time = [s for s in live if s.saved_at <= session.cutoff]
    finished = [s for s in in_time if s.id in results]
    counted = finished[-1] if finished else None
    pending_in_time = any(s.state in PENDING_STATES for s in in_time)
    if session.state == SessionState.RUNNING:
        counted = next((s for s in reversed(live) if s.id in results), None)

    counted_result = results.get(counted.id) if counted else None
    score = counted_result.score if counted_result else None
    if latest is None and session.state != SessionState.RUNNING:
        state, message = "none", NONE_IN_TIME_MESSAGE  # "until you save one" is over
    elif latest is None:
        state, message = ("waiting", WAITING_MESSAGE) if question.waiting_since else (
            "none", NONE_MESSAGE)
    elif question.waiting_since and session.state == SessionState.RUNNING:
        state, message = "waiting", WAITING_MESSAGE
    elif latest.state == SubmissionState.QUEUED:
        state, message = "waiting", QUEUED_MESSAGE
    elif latest.state == SubmissionState.GRADING:
        state, message = "grading", GRADING_MESSAGE
    else:
        latest_result = results.get(latest.id)
        state = "graded" if latest.state == SubmissionState.GRADED else "error"
        message = (latest_result.payload.get("messages") or [""])[0] if latest_result else ""
    return QuestionView(
        question, state, score, message, counted, counted_result, latest, submissions,
        pending_in_time,
    )


def question_views(store: Store, session: SessionRecord) -> list[QuestionView]:
    # Submissions before results: a result and its submission's new state are committed together,
    # so a submission read as finished always finds its result in the later read (the other order
    # could see "graded" with no score while a worker committed between the two reads).
    subs = store.submissions(session.id)
    results = store.results(session.id)
    return [
        _question_view(
            session, q, [s for s in subs if s.question_id == q.question_id], results
        )
        for q in store.questions(session.id)
    ]


def weighted_total(views: list[QuestionView]) -> float:
    """Percent of the weighted maximum: each question's score/5 times its share of the weight."""
    weight = sum(v.record.weight for v in views)
    points = sum(v.record.weight * (v.score or 0) for v in views)
    return round(100.0 * points / (5.0 * weight), 2) if weight else 0.0


def session_status(store: Store, session: SessionRecord, now: float) -> dict[str, Any]:
    views = question_views(store, session)
    # Saves the record could not take (a full home): named on the question and in a banner
    # until a save of it is recorded.
    unrecorded = store.unrecorded.of_session(session.id)
    total = weighted_total(views)
    # A save held for want of room is still to be graded: no verdict before it is.
    grading_pending = any(v.pending_in_time for v in views) or bool(unrecorded)
    passed: bool | None = None
    if session.state == SessionState.SUBMITTED and not grading_pending:
        passed = total >= 100.0 * session.pass_mark - 1e-9
    remaining = max(0.0, session.deadline - now) if session.state == SessionState.RUNNING else 0.0
    project = ProjectState.OK if Path(session.project_dir).is_dir() else ProjectState.MISSING
    return {
        "session": session.id,
        "exam": session.exam_id,
        "exam_title": title_for_length(session.exam_title, session.duration_minutes),
        "state": session.state,
        "started_at": iso(session.started_at),
        "deadline": iso(session.deadline),
        "submitted_at": iso(session.submitted_at),
        "submit_reason": session.submit_reason,
        "server_time": iso(now),
        "remaining_seconds": round(remaining, 3),
        "project_dir": session.project_dir,
        "project": project,
        "project_message": None if project == ProjectState.OK else (
            f"The project folder {session.project_dir} is missing: put it back (or restore it "
            "from a backup); the exam goes on and tfexam picks up its model files when it "
            "returns."),
        "keras": session.keras,
        "questions": [
            {
                "id": v.record.question_id,
                "title": v.record.title,
                "variant": v.record.variant["title"],
                "weight": v.record.weight,
                "state": v.state,
                "score": v.score,
                # The submission the card now shows, so a page can drop a note about another.
                "latest_submission": v.latest.id if v.latest else None,
                "bands": describe_bands(v.record.variant["metric"], v.record.variant["scoring"]),
                "message": unrecorded[v.record.question_id].sentence()
                if v.record.question_id in unrecorded else v.record.late_note
                if v.record.late_note and session.state == SessionState.SUBMITTED else v.message,
                "unrecorded": unrecorded[v.record.question_id].as_dict()
                if v.record.question_id in unrecorded else None,
                "note": v.record.late_note,
                **v.margin_facts,
                "submissions": len([s for s in v.submissions if s.state != SubmissionState.SUPERSEDED]),
                "data": {
                    "title": v.record.data.get("title"),
                    "source": v.record.data.get("source"),
                    "complete": v.record.data.get("complete"),
                    "note": v.record.data.get("note"),
                    "skipped": v.record.data.get("skipped", []),
                },
            }
            for v in views
        ],
        "total": total,
        "pass_mark": round(100.0 * session.pass_mark, 2),
        "grading_pending": grading_pending,
        "unrecorded_saves": [unrecorded[q].as_dict() for q in sorted(unrecorded)],
        "passed": passed,
        # contract 4 (issue 12): model files saved where nothing grades them; running exams only
        "misplaced": [m.to_dict() for m in find_misplaced(
            Path(session.project_dir), {v.record.question_id: v.record.model_file for v in views})]
        if session.state == SessionState.RUNNING else [],
        "isolation": current_isolation(),
    }
